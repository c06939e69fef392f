"""Build & train: widgets build a spec, Train queues a background job, a fragment shows it live."""
import streamlit as st

from fmnist_core.jobs import TEACHER, NotYourJob
from fmnist_core.presets import PRESETS
from fmnist_core.runstore import ACTIVE, RunRecord, RunStoreError, concurrent_runs
from fmnist_core.saved_runs import resumable_epoch
from fmnist_core.specs import SpecError
from fmnist_core.storage import app_home
from fmnist_ui import charts, keys, state
from fmnist_ui.describe import run_label
from fmnist_ui.i18n import count_of, decimal, percent, t
from fmnist_ui.lesson import current_class
from fmnist_ui.locks import controls, is_hidden, is_locked
from fmnist_ui.share import decode_run, encode_run, shared_value
from fmnist_ui.teacher import is_teacher, teacher_class
from fmnist_ui.widgets import (
    architecture_table,
    checked_spec,
    column_heading,
    ensure_defaults,
    model_widgets,
    preset_buttons,
    spec_to_state,
    training_widgets,
)

POLL_SECONDS = 1.0

link_error = None
if shared_value("spec") and not st.session_state.get(keys.SPEC_LINK_APPLIED):
    st.session_state[keys.SPEC_LINK_APPLIED] = True
    try:
        st.session_state.update(spec_to_state(decode_run(shared_value("spec"))))
    except SpecError as error:
        link_error = str(error)
ensure_defaults()
owner = state.session_owner()
manager = state.job_manager()
home = app_home()

st.header(t("page_train"))
if manager.backend.fallback_reason:  # a cluster was asked for and does not answer: say where training runs
    st.warning(t("cluster_fallback"))
    st.caption(manager.backend.fallback_reason)
if link_error:
    st.error(t("link_error", reason=link_error))
st.markdown(t("train_intro"))
if any(is_locked(control) or is_hidden(control) for control in controls()):
    st.caption(t("lesson_locked"))
with st.expander(t("what_is_conv_title")):
    st.markdown(t("what_is_conv"))
preset_buttons()

# In a keyed container: on a tablet or a projector with the sidebar open the columns wrap instead of squeezing.
model_column, training_column, summary_column = st.container(key="wrap_build").columns([1, 1, 1.3], gap="large")
with model_column:
    model_widgets()
with training_column:
    training_widgets()
run, reason = checked_spec()
with summary_column:
    column_heading(t("architecture"))
    if run is None:
        st.error(t("invalid_spec", reason=reason))
    else:
        architecture_table(run)
        if run == PRESETS["seed-pytorch-mlp"]:  # its 46 % is the optimizer's doing: say so before it is blamed
            st.info(t("sgd_note"))
        buttons = st.columns(2)


def status_line(record: RunRecord) -> None:
    device = (record.device or "").upper()
    history = record.history
    if record.status == "queued" and manager.waits_for_cluster(record.key):
        st.info(t("status_waiting_cluster"))
    elif record.status == "queued":
        st.info(t("status_queued", position=manager.queue_position(record.key) or 1))
    elif record.status == "running":
        total = record.run.train.epochs
        images = len(state.dataset().train_images)
        done = min(record.epoch_images or 0, images)  # inside the epoch after the finished ones
        text = (t("status_epoch_images", device=device or "…", epoch=len(history) + 1, total=total, done=done,
                  images=images) if done else t("status_running", device=device or "…"))
        st.progress(min(1.0, (len(history) + done / images) / total), text=text)
        if history:
            last = history[-1]
            st.caption(t("progress", epoch=last.epoch, total=total, ips=last.images_per_second,
                         seconds=last.epoch_seconds, device=device))
    elif record.status == "done":
        cached = st.session_state.get(keys.SUBMITTED, {}).get(record.key) != "queued"
        if cached:
            st.success(t("status_cached"))
        st.success(t("status_done", epochs=count_of("n_epochs", len(history)), seconds=decimal(record.total_seconds),
                     device=device))
        result_number(record)
        sharing = concurrent_runs(record, state.store().all()) if record.backend != "ray" else 0
        if sharing:
            st.caption(t("shared_cpu", count=sharing))
        if record.backend == "ray":
            st.caption(t("trained_on_node", node=record.node, device=device))
    elif record.status == "failed":
        st.error(t("status_failed", error=record.error))
    elif record.status == "cancelled":
        st.warning(t("status_cancelled", epochs=count_of("n_finished_epochs", len(history))) + " "
                   + t(f"stopped_by_{stopper(record)}"))
        if history:
            result_number(record)
    elif record.status == "evicted":
        st.info(t("status_evicted"))
    else:
        st.warning(t("status_interrupted", epochs=count_of("n_finished_epochs", len(history))))


def result_number(record: RunRecord) -> None:
    """The best validation accuracy as a big number, with the change against this student's previous run."""
    best = record.best.val_acc
    seen = st.session_state.setdefault(keys.RESULTS_SEEN, [])  # (key, best) of the runs this session looked at
    if not seen or seen[-1][0] != record.key:
        seen.append((record.key, best))
    previous = next((accuracy for key, accuracy in reversed(seen) if key != record.key), None)
    change = (best - previous) * 100 if previous is not None else 0.0
    delta = None if previous is None else f"{'+' if change >= 0 else ''}{decimal(change, 2)} {t('points_vs_previous')}"
    # the sign says up or down; an arrow beside it read "↓ -0,13"
    st.metric(t("best_val_metric"), percent(best, 2), delta=delta, delta_arrow="off")


def stopper(record: RunRecord) -> str:
    """Who stopped a cancelled run, as this session sees it: you, the teacher, or another browser."""
    if record.stopped_by == owner:
        return "you"
    if record.stopped_by == TEACHER:
        return "teacher"
    return "other" if record.stopped_by else "unknown"


def live_view(key: str, was_active: bool) -> None:
    record = state.store().get(key)
    if record is None:
        st.info(t("not_trained"))
        return
    status_line(record)
    if record.history:
        charts.show(charts.curves(record), key=f"curves_{key}")
        final, best = record.final, record.best  # the chart's text alternative
        st.caption(t("curves_summary", epoch=final.epoch, train=final.train_acc, val=final.val_acc, best=best.val_acc,
                     best_epoch=best.epoch))
        if record.run.train.label_smoothing:  # else "training loss above validation loss" reads as a broken chart
            st.caption(t("smoothing_note", value=record.run.train.label_smoothing))
    if was_active and record.status not in ACTIVE:
        st.rerun()  # the job ended: rerun the page so polling stops and the buttons change


if run is not None:
    st.query_params["spec"] = encode_run(run)  # the address bar is a link to this exact model
    key = run.key
    record = state.store().get(key)
    active = record is not None and record.status in ACTIVE
    watching = active and key not in st.session_state.setdefault(keys.UNWATCHED, set())
    try:
        if active:
            # a teacher stops the jobs of the class they teach ("" for the students in no class)
            who, teacher_of = (TEACHER, teacher_class() or "") if is_teacher() else (owner, None)
            if manager.can_stop(key, who, teacher_of):
                if buttons[0].button(t("stop_button"), type="secondary", width="stretch"):
                    try:
                        manager.cancel(key, who=who, teacher_of=teacher_of)
                    except NotYourJob:  # the job changed hands between the two reads: nothing to do
                        pass
                    st.rerun()
            elif watching:
                summary_column.caption(t("someone_elses_job"))
                if buttons[0].button(t("stop_watching"), width="stretch"):
                    st.session_state[keys.UNWATCHED].add(key)
                    st.rerun()
            elif buttons[0].button(t("watch_again"), width="stretch"):
                st.session_state[keys.UNWATCHED].discard(key)
                st.rerun()
            if st.session_state.get(keys.SUBMITTED, {}).get(key) == "joined":
                st.caption(t("joined"))
        else:
            resume_from = resumable_epoch(home, state.store(), key) if record is not None else None
            if resume_from is not None:
                resume = buttons[0].button(t("resume_button", epoch=resume_from), type="primary", width="stretch")
                train = buttons[1].button(t("restart_button"), width="stretch")
            else:
                resume, train = False, buttons[0].button(t("train_button"), type="primary", width="stretch")
            if resume or train:
                state.submit_run(run, resume=resume)
                st.rerun()
            state.show_refusal(summary_column)
    except RunStoreError as error:  # the database is locked by another process: say so, lose nothing
        summary_column.error(t(f"store_error_{error.code}"))
    if record is not None and record.history and record.status != "evicted":
        st.session_state[keys.EXPLORE_RUN] = key
        summary_column.page_link("app_pages/explore.py", label=t("go_explore"), icon=":material/image_search:")
    if active and not watching:
        st.info(t("not_watching"))
    else:
        st.fragment(state.survives_store_errors(live_view), run_every=POLL_SECONDS if active else None)(key, active)

# the jobs of this session's class (or of the students in no class): another class's students stay its own
others = [key for key in state.store().class_active_keys(current_class() or "") if run is None or key != run.key]
if others:
    with st.expander(t("other_jobs")):
        for other in others:
            other_record = state.store().get(other)
            if other_record is not None:
                st.write(f"{run_label(other_record.run)} — {t('status_name_' + other_record.status)}")
