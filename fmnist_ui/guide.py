"""The guided lesson: the notebooks' path as steps. Each step names the runs it shows (the precomputed exercise
grid's, so a prepared server answers at once), the test images it looks at, one question, and what to notice once
the results are there. The Lesson page renders the current step; progress lives in the session and the link."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fmnist_core.activations import feature_maps
from fmnist_core.data import as_input
from fmnist_core.images import feature_grid, png_bytes
from fmnist_core.metrics import early_stopping
from fmnist_core.presets import DEFAULT_PRESET, PRESETS, grid_cnn, mlp_vs_cnn
from fmnist_core.runstore import ACTIVE, RunRecord, concurrent_runs
from fmnist_core.specs import RunSpec
from fmnist_core.storage import app_home, saved_epochs

from . import charts, keys, state
from .describe import layer_label, run_label, test_image_alt
from .i18n import class_names, current_language, decimal, number, percent, t
from .locks import controls, is_locked
from .picture import thumbnail
from .widgets import spec_to_state

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Step:
    """One step of the lesson: `runs` whose results it shows (the first is the one the widgets take), the test
    images it looks at, and whether it compares its runs in a table."""

    name: str
    runs: tuple[RunSpec, ...]
    images: tuple[int, ...] = ()
    compare: bool = False


FAST = PRESETS[DEFAULT_PRESET]
MLP = mlp_vs_cnn(FAST.train)[0]  # the MLP the notebook starts from, on the CNN's recipe
LOOKED_IMAGE = 0  # the ankle boot both notebooks open with
STEPS: tuple[Step, ...] = (
    Step("convolution", ()),
    Step("mlp", (MLP,)),
    Step("cnn", (FAST, MLP)),
    Step("maps", (FAST,), images=(0, 7, 26)),
    Step("shoes", (FAST,), images=(23, 24, 25, 26, 27, 28)),
    Step("filters", tuple(grid_cnn(filters, 2) for filters in (16, 32, 64)), compare=True),
    Step("layers", tuple(grid_cnn(32, layers) for layers in (1, 2, 3)), compare=True),
    Step("overfitting", (PRESETS["overfitting"],)),
    Step("looked", (FAST, MLP), images=(LOOKED_IMAGE,)),
)


def step_number(text: str | None) -> int | None:
    """A link's step (1-based digits within the lesson), else None."""
    if not text or len(text) > 2 or not text.isascii() or not text.isdigit():
        return None
    number_ = int(text)
    return number_ if 1 <= number_ <= len(STEPS) else None


def go_to(position: int) -> None:
    """Button callback: open step `position` (1-based) and set the Build & train widgets to its model, unless a
    teacher's lesson (a code, or locked controls) decides the model."""
    st.session_state[keys.GUIDE_STEP] = position
    runs = STEPS[position - 1].runs
    if not runs or st.session_state.get(keys.LESSON_CODE) or any(is_locked(control) for control in controls()):
        return
    st.session_state.update(spec_to_state(runs[0]))
    st.session_state[keys.SPEC_LINK_APPLIED] = True  # the step's model wins over the one the link opened with


def records_of(step: Step) -> list[RunRecord | None]:
    store = state.store()
    return [store.get(run.key) for run in step.runs]


def usable(record: RunRecord | None) -> bool:
    """A finished run whose results this step can show (and whose checkpoints Explore can open)."""
    return record is not None and record.status == "done" and bool(record.history)


def missing_runs(step: Step) -> list[RunSpec]:
    """The step's runs that are neither finished nor training: the Train button's work."""
    return [run for run, record in zip(step.runs, records_of(step), strict=True)
            if not usable(record) and (record is None or record.status not in ACTIVE)]


def train_missing(step: Step) -> None:
    for run in missing_runs(step):
        if state.submit_run(run) is None:  # the queue or the disk said no: show_refusal says why
            return


def progress_text(record: RunRecord) -> str:
    """A waiting or training run of the step in one line, for the step's status list."""
    if record.status == "queued":
        return t("guide_run_queued", run=run_label(record.run))
    images = len(state.dataset().train_images)
    if not record.epoch_images:  # before its first progress report, or on a backend that sends none (Ray)
        return t("guide_run_started", run=run_label(record.run), epoch=len(record.history) + 1,
                 total=record.run.train.epochs)
    return t("guide_run_training", run=run_label(record.run), epoch=len(record.history) + 1,
             total=record.run.train.epochs, done=min(record.epoch_images, images), images=images)


def results_table(records: list[RunRecord]) -> None:
    """The step's runs side by side: what changed, size, best validation accuracy, seconds per epoch."""
    everything = state.store().all()
    rows = []
    for record in records:
        shared = concurrent_runs(record, everything) if record.backend != "ray" else 0
        seconds = decimal(record.total_seconds / len(record.history))
        rows.append({t("col_model"): run_label(record.run), t("col_params"): number(record.params),
                     t("col_best_val"): percent(record.best.val_acc, 2),
                     t("col_sec_epoch"): seconds + (" *" if shared else "")})
    st.table(pd.DataFrame(rows).set_index(t("col_model")))
    if any("*" in row[t("col_sec_epoch")] for row in rows):
        st.caption(t("guide_shared_time"))


@st.cache_data(show_spinner=False, max_entries=64)
def image_answer(run_key: str, epoch: int, index: int, language: str) -> tuple[str, float, dict[str, bytes]]:
    """What a run's model says about test image `index`: its top class, that class's probability, and each
    conv layer's maps as one PNG grid."""
    model = state.checkpoint(run_key, epoch).model
    image = state.dataset().test_images[index]
    probabilities, maps = feature_maps(model, as_input(image[None]))
    top = int(probabilities[0].argmax())
    grids = {layer_label(layer.name, layer.kind): png_bytes(feature_grid(maps[layer.name][0], columns=8, cell=36))
             for layer in model.conv_layers}
    return class_names(language)[top], float(probabilities[0, top]), grids


def image_cards(record: RunRecord, images: tuple[int, ...], with_maps: bool) -> list[bool]:
    """Each image with the model's answer (and its conv layers' maps); whether each answer was right."""
    data = state.dataset()
    names = class_names(current_language())
    epoch = saved_epochs_of(record)
    right = []
    per_row = min(3, len(images))
    for position, index in enumerate(images):
        if position % per_row == 0:  # a row of columns at a time: on a phone they stack in reading order
            columns = st.container(key=f"wrap_guide_images_{position}").columns(per_row)
        true_name = names[int(data.test_labels[index])]
        predicted, probability, grids = image_answer(record.key, epoch, index, current_language())
        right.append(predicted == true_name)
        with columns[position % per_row]:
            st.image(thumbnail(index, size=112), alt=test_image_alt(index, true_name))
            verdict = "✓" if predicted == true_name else "✗"
            st.markdown(t("guide_answer", index=index, true=true_name, predicted=predicted,
                          probability=probability, verdict=verdict))
            if with_maps:
                for name, grid in grids.items():
                    st.caption(name)
                    st.image(grid, alt=t("guide_maps_alt", layer=name, index=index))
    return right


def saved_epochs_of(record: RunRecord) -> int:
    return saved_epochs(app_home(), record.key)[-1]


def notice(step: Step, records: list[RunRecord], right: list[bool]) -> str:
    """What to notice, with this server's own numbers in it."""
    best = [record.best.val_acc for record in records]
    if step.name == "mlp":
        return t("guide_mlp_notice", acc=best[0], wrong=(1 - best[0]) * 100)
    if step.name == "cnn":
        return t("guide_cnn_notice", cnn=best[0], mlp=best[1], fewer=1 - (1 - best[0]) / (1 - best[1]))
    if step.name == "maps":
        return maps_notice(records[0], step.images, right)
    if step.name == "shoes":
        return shoes_notice(records[0], right)
    if step.name == "looked":
        return looked_notice(records)
    if step.name in ("filters", "layers"):
        top = max(records, key=lambda record: record.best.val_acc)
        return t(f"guide_{step.name}_notice", best=run_label(top.run), acc=top.best.val_acc,
                 spread=(max(best) - min(best)) * 100)
    record = records[0]
    lowest = min(record.history, key=lambda metrics: metrics.val_loss)
    stop = early_stopping(record.history)
    text = t("guide_overfitting_notice", low_epoch=lowest.epoch, low=lowest.val_loss, final=record.final.val_loss,
             train=record.final.train_acc, val=record.final.val_acc,
             stopped=stop.stopped_after if stop else record.final.epoch)
    best = record.best
    if best.epoch != lowest.epoch:  # the chart marks both: say why they differ, with the numbers on it
        text += " " + t("guide_overfitting_disagree", best_epoch=best.epoch, best=best.val_acc,
                        low_epoch=lowest.epoch, low_acc=lowest.val_acc)
    return text


def maps_notice(record: RunRecord, images: tuple[int, ...], right: list[bool]) -> str:
    """Which first-layer filters respond most to each image, and which of them images of one class share: the
    grids on screen, in words."""
    from fmnist_core.images import strongest_filters

    model = state.checkpoint(record.key, saved_epochs_of(record)).model
    data = state.dataset()
    names = class_names(current_language())
    _, maps = feature_maps(model, as_input(data.test_images[list(images)]))
    first = model.conv_layers[0].name
    strongest = {index: {channel for channel, _, _ in strongest_filters(maps[first][position], count=4)}
                 for position, index in enumerate(images)}
    labels = {index: int(data.test_labels[index]) for index in images}
    pairs = [(a, b) for a in images for b in images if a < b and labels[a] == labels[b]]
    text = t("guide_maps_notice", right=sum(right), total=len(right))
    if pairs:
        a, b = pairs[0]
        shared = sorted(strongest[a] & strongest[b])
        others = sorted(set().union(*(strongest[index] for index in images if labels[index] != labels[a])))
        text += " " + (t("guide_maps_shared", a=a, b=b, label=names[labels[a]], layer=layer_label(first, "conv"),
                         filters=", ".join(f"#{channel}" for channel in shared),
                         others=", ".join(f"#{channel}" for channel in others)) if shared
                       else t("guide_maps_none_shared", a=a, b=b, label=names[labels[a]]))
    return text


def shoes_notice(record: RunRecord, right: list[bool]) -> str:
    """What the six images showed, from the answers on screen: which were missed and as what."""
    step = next(step for step in STEPS if step.name == "shoes")
    names = class_names(current_language())
    data = state.dataset()
    epoch = saved_epochs_of(record)
    misses = []
    for index, correct in zip(step.images, right, strict=True):
        if not correct:
            predicted, probability, _ = image_answer(record.key, epoch, index, current_language())
            misses.append(t("guide_shoes_miss", index=index, true=names[int(data.test_labels[index])],
                            predicted=predicted, probability=probability))
    if not misses:
        return t("guide_shoes_all_right", total=len(right))
    return t("guide_shoes_notice", right=sum(right), total=len(right), misses="; ".join(misses))


def looked_heat(record: RunRecord, method: str) -> tuple:
    """(heat map, top class) of a step's run on LOOKED_IMAGE, for the class it predicts."""
    from .heatmap_view import heat_of

    epoch = saved_epochs_of(record)
    model = state.checkpoint(record.key, epoch).model
    image = state.dataset().test_images[LOOKED_IMAGE]
    probabilities, _ = feature_maps(model, as_input(image[None]))
    top = int(probabilities[0].argmax())
    return heat_of(record.key, epoch, model, method, image, top), top


def looked_notice(records: list[RunRecord]) -> str:
    from fmnist_core.saliency import heat_summary

    (cnn_region, cnn_area), (mlp_region, mlp_area) = (heat_summary(looked_heat(record, "occlusion")[0])
                                                      for record in records)
    return t("guide_looked_notice", cnn_region=t(f"region_{cnn_region}"), cnn_area=cnn_area,
             mlp_region=t(f"region_{mlp_region}"), mlp_area=mlp_area)


def looked_cards(records: list[RunRecord]) -> None:
    """The CNN's and the MLP's heat maps on the same image (occlusion for both, Grad-CAM for the CNN)."""
    from .heatmap_view import show_heat

    names = class_names(current_language())
    image = state.dataset().test_images[LOOKED_IMAGE]
    columns = st.container(key="wrap_guide_looked").columns(3)
    for column, (record, method) in zip(columns, ((records[0], "occlusion"), (records[0], "gradcam"),
                                                  (records[1], "occlusion")), strict=True):
        heat, top = looked_heat(record, method)
        show_heat(column, image, heat, f"{run_label(record.run)} · {t(f'looked_{method}')}", names[top])


def convolution_step() -> None:
    """The first step: the notebook's 3×3 patch over its 5×5 image, stepped by the student; the notice says what
    the numbers on screen show."""
    from fmnist_core.convolution import CLASSIC_KERNELS, TOY_IMAGE

    from .convolution_view import conv_stepper, stepper_settings

    padding, stride = stepper_settings("guide_conv")
    kernel = CLASSIC_KERNELS["vertical_edges"]
    st.caption(t("guide_convolution_kernel"))
    output = conv_stepper(TOY_IMAGE, kernel, padding, stride, key=f"guide_conv_{padding}_{stride}")
    largest = int(output.abs().argmax())
    row, column = divmod(largest, output.shape[1])
    st.success(t("guide_convolution_notice", rows=output.shape[0], columns=output.shape[1],
                 size=TOY_IMAGE.shape[0], value=float(output[row, column]), row=row + 1, column=column + 1))
    st.page_link("app_pages/convolution.py", label=t("guide_open_convolution"), icon=":material/grid_on:")


def step_results(step: Step, was_active: bool) -> None:
    """The step's results when its runs are there; else their progress, or a button that trains them."""
    if step.name == "convolution":
        convolution_step()
        return
    records = records_of(step)
    active = [record for record in records if record is not None and record.status in ACTIVE]
    if active:
        for record in active:
            st.info(progress_text(record))
    elif not all(usable(record) for record in records):
        st.info(t("guide_not_ready", count=len(missing_runs(step))))
        state.show_refusal()
        if st.button(t("guide_train"), type="primary", key=f"guide_train_{step.name}"):
            train_missing(step)
            st.rerun()  # the whole page: its fragment starts polling the runs it just queued
    if all(usable(record) for record in records):
        right: list[bool] = []
        if step.name in ("mlp", "cnn"):
            columns = st.columns(len(records))
            for column, record in zip(columns, records, strict=True):
                column.metric(run_label(record.run), percent(record.best.val_acc, 2), border=True)
        elif step.name == "looked":
            looked_cards(records)
        elif step.images:
            right = image_cards(records[0], step.images, with_maps=step.name == "maps")
        elif step.compare:
            results_table(records)
        else:
            charts.show(charts.train_vs_validation(records[0]), key=f"guide_gap_{step.name}")
            charts.show(charts.curves(records[0]), key=f"guide_curves_{step.name}")
        st.success(notice(step, records, right))
    if was_active and not active:
        st.rerun()


def show_step_results(step: Step) -> None:
    """Poll while the step's runs train, so their results appear without a click."""
    active = any(record is not None and record.status in ACTIVE for record in records_of(step))
    st.fragment(state.survives_store_errors(step_results), run_every=POLL_SECONDS if active else None)(step, active)

