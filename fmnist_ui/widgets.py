"""Widgets that build a RunSpec, shared by pages. Widget values live in session state under fixed keys."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from fmnist_core.kinds import MODEL_KINDS, Choice, PerLayer, Slider, kind_named
from fmnist_core.models import build_model
from fmnist_core.presets import DEFAULT_PRESET, PRESETS
from fmnist_core.specs import (
    BATCH_CHOICES,
    EPOCH_RANGE,
    LABEL_SMOOTHING_CHOICES,
    LR_CHOICES,
    OPTIMIZERS,
    SCHEDULES,
    SEED_RANGE,
    RunSpec,
    SpecError,
    TrainConfig,
    snap_label_smoothing,
    validate,
)

from .describe import OPTIMIZER_NAMES, layer_label
from .i18n import number, t
from .locks import is_hidden, is_locked

# Every range and list of choices below comes from the core (specs.py for training, each kind's module for its
# model): a spec the core accepts is one the widgets can show, so a shared link never meets a slider it does not fit.


def column_heading(text: str) -> None:
    """A heading for a narrow column: level 3, under the page's level-2 header (headings in order for a screen
    reader), drawn one size smaller (fmnist_ui/shell.py) so "Entrenamiento" or "Test image #12" stays on one line
    in a third of a 1024-pixel projector page."""
    st.markdown(f"### {text}")


def spec_to_state(run: RunSpec) -> dict:
    """The widget values that show `run`; also used to load presets."""
    state = {
        "epochs": run.train.epochs, "batch_size": run.train.batch_size, "optimizer": run.train.optimizer,
        "lr": run.train.lr, "seed": run.train.seed, "shuffle": run.train.shuffle,
        "schedule": run.train.schedule, "label_smoothing": run.train.label_smoothing,
        "model_kind": run.model.kind,
    }
    state.update(kind_named(run.model.kind).to_state(run.model))
    return state


def spec_from_state(state) -> RunSpec:
    """Build the RunSpec the widgets describe (not yet validated)."""
    model = kind_named(state["model_kind"]).from_state(state)
    train = TrainConfig(
        epochs=int(state["epochs"]), batch_size=int(state["batch_size"]), optimizer=state["optimizer"],
        lr=float(state["lr"]), seed=int(state["seed"]), shuffle=bool(state["shuffle"]),
        schedule=state["schedule"], label_smoothing=snap_label_smoothing(float(state["label_smoothing"])),
    )
    return RunSpec(model, train)


def ensure_defaults() -> None:
    """Give every widget key a value once (the default preset), so widgets never fight their defaults."""
    defaults = {}
    for kind in MODEL_KINDS.values():  # every kind's own default spec, each of its layers at the widget's default
        defaults.update(kind.to_state(kind.spec()))
        defaults.update({key: widget.default for widget in kind.widgets() if isinstance(widget, PerLayer)
                         for key in widget.keys()})
    defaults.update(spec_to_state(PRESETS[DEFAULT_PRESET]))
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
    choices = {"batch_size": BATCH_CHOICES, "lr": LR_CHOICES, "label_smoothing": LABEL_SMOOTHING_CHOICES}
    for kind in MODEL_KINDS.values():
        for widget in kind.widgets():
            if isinstance(widget, PerLayer):
                choices.update(dict.fromkeys(widget.keys(), widget.choices))
            elif isinstance(widget, Choice) and all(isinstance(choice, int | float) for choice in widget.choices):
                choices[widget.key] = widget.choices
    for key, allowed in choices.items():
        if key in st.session_state:
            st.session_state[key] = _nearest(st.session_state[key], allowed)


def _option_text(widget: Choice, value) -> str:
    return t(widget.option.format(value=value), value=value) if widget.option else str(value)


def _draw(widget, options: dict) -> None:
    """One declared widget of a model kind (fmnist_core/kinds/)."""
    if isinstance(widget, Slider):
        st.slider(t(widget.label), *widget.bounds, key=widget.key, **options)
    elif isinstance(widget, PerLayer):
        for index in range(1, int(st.session_state[widget.count]) + 1):
            st.select_slider(t(widget.label, index=index), widget.choices, key=f"{widget.prefix}_{index}", **options)
    elif widget.radio:
        st.radio(t(widget.label), widget.choices, key=widget.key, horizontal=True,
                 format_func=lambda value: _option_text(widget, value),
                 help=t(widget.help) if widget.help else None, **options)
    else:
        st.select_slider(t(widget.label), widget.choices, key=widget.key,
                         format_func=lambda value: _option_text(widget, value),
                         help=t(widget.help) if widget.help else None, **options)


def model_widgets() -> None:
    snap_to_choices()
    column_heading(t("model_section"))
    if (options := _control("model_kind")) is not None:
        st.radio(t("model_kind"), tuple(MODEL_KINDS), key="model_kind", horizontal=True,
                 format_func=lambda kind: t(f"kind_{kind}"), **options)
    for control in kind_named(st.session_state["model_kind"]).controls:
        if (options := _control(control.name)) is not None:
            for widget in control.widgets:
                _draw(widget, options)


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


TRAINING_KEYS = ("epochs", "batch_size", "optimizer", "lr", "seed", "shuffle", "schedule", "label_smoothing")


def build_keys() -> tuple[str, ...]:
    """Every widget value that makes up a spec: the model type, each kind's, the training's."""
    return ("model_kind", *(key for kind in MODEL_KINDS.values() for key in kind.state_keys()), *TRAINING_KEYS)


def keep_widget_values() -> None:
    """Streamlit drops a widget's value when its page is not shown; re-assigning keeps the spec across pages."""
    for key in build_keys():
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
