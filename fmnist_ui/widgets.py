"""Widgets that build a RunSpec, shared by pages. Widget values live in session state under fixed keys."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fmnist_core.models import build_model
from fmnist_core.presets import DEFAULT_PRESET, PRESETS
from fmnist_core.specs import (
    BATCH_CHOICES,
    CONV_LAYER_RANGE,
    DENSE_CHOICES,
    EPOCH_RANGE,
    FILTER_CHOICES,
    HIDDEN_CHOICES,
    HIDDEN_LAYER_RANGE,
    KERNEL_CHOICES,
    LABEL_SMOOTHING_CHOICES,
    LR_CHOICES,
    OPTIMIZERS,
    PADDING_MODES,
    SCHEDULES,
    SEED_RANGE,
    CNNSpec,
    MLPSpec,
    RunSpec,
    SpecError,
    TrainConfig,
    padding_for,
    padding_mode,
    snap_label_smoothing,
    validate,
)

from .describe import OPTIMIZER_NAMES, layer_label
from .i18n import number, t
from .locks import is_hidden, is_locked

# Every range and list of choices below comes from the core's specs: a spec the core accepts is one the
# widgets can show, so a shared link never meets a slider it does not fit.
MAX_CONV_WIDGETS = CONV_LAYER_RANGE[1]
MAX_HIDDEN_WIDGETS = HIDDEN_LAYER_RANGE[1]


def column_heading(text: str) -> None:
    """A heading for a narrow column: level 3, under the page's level-2 header (headings in order for a screen
    reader), drawn one size smaller (fmnist_ui/shell.py) so "Entrenamiento" or "Test image #12" stays on one line
    in a third of a 1024-pixel projector page."""
    st.markdown(f"### {text}")


def _cnn_state(model: CNNSpec) -> dict:
    state = {"conv_layers": len(model.conv_channels), "kernel_size": model.kernel_size,
             "padding": padding_mode(model.padding), "dense": model.dense}
    state.update({f"filters_{index}": channels for index, channels in enumerate(model.conv_channels, start=1)})
    return state


def _cnn_from_state(state) -> CNNSpec:
    channels = tuple(int(state[f"filters_{index}"]) for index in range(1, int(state["conv_layers"]) + 1))
    kernel_size = int(state["kernel_size"])
    return CNNSpec(conv_channels=channels, kernel_size=kernel_size,
                   padding=padding_for(state["padding"], kernel_size), dense=int(state["dense"]))


def _mlp_state(model: MLPSpec) -> dict:
    state = {"hidden_layers": len(model.hidden)}
    state.update({f"hidden_{index}": width for index, width in enumerate(model.hidden, start=1)})
    return state


def _mlp_from_state(state) -> MLPSpec:
    return MLPSpec(hidden=tuple(int(state[f"hidden_{index}"]) for index in range(1, int(state["hidden_layers"]) + 1)))


def spec_to_state(run: RunSpec) -> dict:
    """The widget values that show `run`; also used to load presets."""
    state = {
        "epochs": run.train.epochs, "batch_size": run.train.batch_size, "optimizer": run.train.optimizer,
        "lr": run.train.lr, "seed": run.train.seed, "shuffle": run.train.shuffle,
        "schedule": run.train.schedule, "label_smoothing": run.train.label_smoothing,
        "model_kind": run.model.kind,
    }
    state.update(KIND_WIDGETS[run.model.kind].to_state(run.model))
    return state


def spec_from_state(state) -> RunSpec:
    """Build the RunSpec the widgets describe (not yet validated)."""
    model = KIND_WIDGETS[state["model_kind"]].from_state(state)
    train = TrainConfig(
        epochs=int(state["epochs"]), batch_size=int(state["batch_size"]), optimizer=state["optimizer"],
        lr=float(state["lr"]), seed=int(state["seed"]), shuffle=bool(state["shuffle"]),
        schedule=state["schedule"], label_smoothing=snap_label_smoothing(float(state["label_smoothing"])),
    )
    return RunSpec(model, train)


def ensure_defaults() -> None:
    """Give every widget key a value once (the default preset), so widgets never fight their defaults."""
    defaults = spec_to_state(PRESETS[DEFAULT_PRESET])
    defaults.update({f"filters_{index}": 32 for index in range(1, MAX_CONV_WIDGETS + 1)})
    defaults.update({f"hidden_{index}": 128 for index in range(1, MAX_HIDDEN_WIDGETS + 1)})
    defaults.update(hidden_layers=2)
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def load_preset(name: str) -> None:
    """Button callback: set the widgets to the preset."""
    st.session_state.update(spec_to_state(PRESETS[name]))


def preset_buttons() -> None:
    if is_hidden("presets"):
        return
    st.caption(t("presets"))
    names = list(PRESETS)
    with st.container(key="wrap_presets"):  # wraps to fewer columns on a tablet (see fmnist_ui/shell.py)
        # a row of columns at a time: stacked on a phone, and in Tab order, the presets keep their reading order
        for start in range(0, len(names), 3):
            for column, name in zip(st.columns(3), names[start:start + 3], strict=False):
                column.button(t(f"preset_{name}"), key=f"preset_{name}", on_click=load_preset, args=(name,),
                              width="stretch", disabled=is_locked("presets"))


def _nearest(value, choices):
    return min(choices, key=lambda choice: abs(choice - value))


def _control(control: str) -> dict | None:
    """Widget arguments for a control of a lesson: None when the teacher hid it, else whether it is locked."""
    return None if is_hidden(control) else {"disabled": is_locked(control)}


def snap_to_choices() -> None:
    """Values from links or old sessions that are not on a slider's steps go to the nearest step."""
    choices = {"kernel_size": KERNEL_CHOICES, "dense": DENSE_CHOICES, "batch_size": BATCH_CHOICES, "lr": LR_CHOICES,
               "label_smoothing": LABEL_SMOOTHING_CHOICES,
               **{f"filters_{index}": FILTER_CHOICES for index in range(1, MAX_CONV_WIDGETS + 1)},
               **{f"hidden_{index}": HIDDEN_CHOICES for index in range(1, MAX_HIDDEN_WIDGETS + 1)}}
    for key, allowed in choices.items():
        st.session_state[key] = _nearest(st.session_state[key], allowed)


def _cnn_widgets() -> None:
    if (options := _control("conv_layers")) is not None:
        st.slider(t("conv_layers"), *CONV_LAYER_RANGE, key="conv_layers", **options)
    if (options := _control("filters")) is not None:
        for index in range(1, int(st.session_state["conv_layers"]) + 1):
            st.select_slider(t("filters_layer", index=index), FILTER_CHOICES, key=f"filters_{index}", **options)
    if (options := _control("kernel_size")) is not None:
        st.radio(t("kernel_size"), KERNEL_CHOICES, key="kernel_size", horizontal=True,
                 format_func=lambda size: f"{size}×{size}", **options)
    if (options := _control("padding")) is not None:
        st.radio(t("padding"), PADDING_MODES, key="padding", horizontal=True,
                 format_func=lambda mode: t(f"padding_{mode}"), help=t("padding_help"), **options)
    if (options := _control("dense")) is not None:
        st.select_slider(t("dense_width"), DENSE_CHOICES, key="dense", **options)


def _mlp_widgets() -> None:
    if (options := _control("hidden")) is not None:
        st.slider(t("hidden_layers"), *HIDDEN_LAYER_RANGE, key="hidden_layers", **options)
        for index in range(1, int(st.session_state["hidden_layers"]) + 1):
            st.select_slider(t("hidden_width", index=index), HIDDEN_CHOICES, key=f"hidden_{index}", **options)


@dataclass(frozen=True)
class KindWidgets:
    """How the widgets show one model kind (specs.MODEL_KINDS): its values in session state and its controls."""

    to_state: Callable[[object], dict]
    from_state: Callable[[object], object]
    draw: Callable[[], None]


KIND_WIDGETS = {"cnn": KindWidgets(_cnn_state, _cnn_from_state, _cnn_widgets),
                "mlp": KindWidgets(_mlp_state, _mlp_from_state, _mlp_widgets)}


def model_widgets() -> None:
    snap_to_choices()
    column_heading(t("model_section"))
    if (options := _control("model_kind")) is not None:
        st.radio(t("model_kind"), tuple(KIND_WIDGETS), key="model_kind", horizontal=True,
                 format_func=lambda kind: t(f"kind_{kind}"), **options)
    KIND_WIDGETS[st.session_state["model_kind"]].draw()


def training_widgets() -> None:
    column_heading(t("training_section"))
    if (options := _control("epochs")) is not None:
        st.slider(t("epochs"), *EPOCH_RANGE, key="epochs", **options)
    if (options := _control("batch_size")) is not None:
        st.select_slider(t("batch_size"), BATCH_CHOICES, key="batch_size", **options)
    if (options := _control("optimizer")) is not None:
        st.radio(t("optimizer"), OPTIMIZERS, key="optimizer", horizontal=True,
                 format_func=OPTIMIZER_NAMES.get, **options)
    if (options := _control("lr")) is not None:
        st.select_slider(t("learning_rate"), LR_CHOICES, key="lr", format_func=lambda lr: f"{lr:g}", **options)
    if (options := _control("advanced")) is not None:
        with st.expander(t("advanced")):
            st.number_input(t("seed"), *SEED_RANGE, step=1, key="seed", **options)
            st.checkbox(t("shuffle"), key="shuffle", **options)
            st.radio(t("schedule"), SCHEDULES, key="schedule",
                     format_func=lambda name: t(f"schedule_{name}"), **options)
            st.select_slider(t("label_smoothing"), LABEL_SMOOTHING_CHOICES, key="label_smoothing",
                             format_func=lambda value: f"{value:g}", **options)


def checked_spec() -> tuple[RunSpec | None, str | None]:
    """The widgets' spec and None, or None and the core's reason it cannot be built."""
    try:
        run = spec_from_state(st.session_state)
        validate(run)
    except (SpecError, KeyError, ValueError, TypeError) as error:
        return None, str(error)
    return run, None


def architecture_table(run: RunSpec) -> None:
    model = build_model(run.model)
    # No "kind" column: the layer names already say it. Narrow columns and "32×26×26" without spaces: the table
    # fits a third of a 1024-px projected page without scrolling sideways.
    # A static table, not st.dataframe: no toolbar and grid canvases in the keyboard's way (7 Tab stops fewer).
    rows = [{t("col_layer"): layer_label(layer.name, layer.kind),
             t("col_output"): "×".join(str(size) for size in layer.output_shape),
             t("col_params"): number(layer.params)} for layer in model.layers]
    st.table(pd.DataFrame(rows).set_index(t("col_layer")))
    st.markdown(t("total_params", count=model.param_count))


BUILD_KEYS = ("model_kind", "conv_layers", "kernel_size", "padding", "dense", "hidden_layers", "epochs",
              "batch_size", "optimizer", "lr", "seed", "shuffle", "schedule", "label_smoothing",
              *(f"filters_{index}" for index in range(1, MAX_CONV_WIDGETS + 1)),
              *(f"hidden_{index}" for index in range(1, MAX_HIDDEN_WIDGETS + 1)))


def keep_widget_values() -> None:
    """Streamlit drops a widget's value when its page is not shown; re-assigning keeps the spec across pages."""
    for key in BUILD_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
