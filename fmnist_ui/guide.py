"""The guided lesson: the notebooks' path as steps. Each step names the runs it shows (the precomputed exercise
grid's, so a prepared server answers at once), the test images it looks at, one question, and what to notice once
the results are there. The Lesson page renders the current step; progress lives in the session and the link."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fmnist_core.activations import feature_maps
from fmnist_core.images import feature_grid, png_bytes
from fmnist_core.metrics import early_stopping
from fmnist_core.precompute import grid_cnn
from fmnist_core.presets import DEFAULT_PRESET, PRESETS, mlp_vs_cnn
from fmnist_core.runstore import ACTIVE, RunRecord, concurrent_runs
from fmnist_core.specs import RunSpec
from fmnist_core.storage import app_home, saved_epochs
from fmnist_core.training import as_input

from . import charts, keys, state
from .describe import layer_label, run_label, test_image_alt
from .i18n import class_names, current_language, decimal, number, percent, t
from .locks import CONTROLS, is_locked
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
STEPS: tuple[Step, ...] = (
    Step("mlp", (mlp_vs_cnn(FAST.train)[0],)),
    Step("cnn", (FAST, mlp_vs_cnn(FAST.train)[0])),
    Step("maps", (FAST,), images=(0, 7, 26)),
    Step("shoes", (FAST,), images=(23, 24, 25, 26, 27, 28)),
    Step("filters", tuple(grid_cnn(filters, 2) for filters in (16, 32, 64)), compare=True),
    Step("layers", tuple(grid_cnn(32, layers) for layers in (1, 2, 3)), compare=True),
    Step("overfitting", (PRESETS["overfitting"],)),
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
    if st.session_state.get(keys.LESSON_CODE) or any(is_locked(control) for control in CONTROLS):
        return
    st.session_state.update(spec_to_state(STEPS[position - 1].runs[0]))
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
    if step.name in ("maps", "shoes"):
        return t(f"guide_{step.name}_notice", right=sum(right), total=len(right))
    if step.name in ("filters", "layers"):
        top = max(records, key=lambda record: record.best.val_acc)
        return t(f"guide_{step.name}_notice", best=run_label(top.run), acc=top.best.val_acc,
                 spread=(max(best) - min(best)) * 100)
    record = records[0]
    lowest = min(record.history, key=lambda metrics: metrics.val_loss)
    stop = early_stopping(record.history)
    return t("guide_overfitting_notice", low_epoch=lowest.epoch, low=lowest.val_loss, final=record.final.val_loss,
             train=record.final.train_acc, val=record.final.val_acc,
             stopped=stop.stopped_after if stop else record.final.epoch)


def step_results(step: Step, was_active: bool) -> None:
    """The step's results when its runs are there; else their progress, or a button that trains them."""
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
    st.fragment(step_results, run_every=POLL_SECONDS if active else None)(step, active)

