"""Class board: every run the class trained or fetched since its teacher last cleared the board, on one scatter;
for the teacher, the class's jobs and the models brought in by file. Each class has its own board; students in no
class share the server's."""
import pandas as pd
import streamlit as st

from fmnist_core.jobs import TEACHER, NotYourJob
from fmnist_core.quota import delete_run
from fmnist_core.storage import app_home
from fmnist_ui import charts, keys, state
from fmnist_ui.describe import run_label
from fmnist_ui.i18n import count_of, decimal, number, percent, t
from fmnist_ui.lesson import current_class
from fmnist_ui.teacher import is_teacher

REFRESH_SECONDS = 5.0  # the board fills up while the class trains

st.header(t("page_board"))
class_code = current_class()
st.markdown(t("board_intro_class") if class_code else t("board_intro"))
owner = state.session_owner()
store = state.store()


def confirm_clear() -> None:
    """Clearing takes every student's point off the projected board: asked once more, with the count (inline, not
    a dialog: a screen reader stays where it was, and the question survives a rerun)."""
    st.warning(t("board_clear_confirm", runs=len(store.board(class_code))))
    yes, no = st.columns(2)
    if yes.button(t("board_clear_yes"), type="primary", width="stretch"):
        store.clear_board(class_code)
        st.session_state[keys.CONFIRM_CLEAR] = False
        st.session_state[keys.BOARD_CLEARED] = True
        st.rerun()
    if no.button(t("board_clear_no"), width="stretch"):
        st.session_state[keys.CONFIRM_CLEAR] = False
        st.rerun()


def stop_job(key: str) -> None:
    try:
        state.job_manager().cancel(key, who=TEACHER, teacher_of=class_code or "")
    except NotYourJob:  # started in another class (a student here joined it): that class's teacher decides
        pass


@st.fragment(run_every=REFRESH_SECONDS)
@state.survives_store_errors
def class_jobs() -> None:
    """The teacher's view of the class's running and queued jobs, each with Stop where this teacher may."""
    manager = state.job_manager()
    records = [record for key in store.class_active_keys(class_code or "") if (record := store.get(key)) is not None]
    st.markdown(f"### {t('class_jobs')}")
    if not records:
        st.caption(t("class_jobs_none"))
        return
    for record in records:
        text_column, button_column = st.columns([4, 1], vertical_alignment="center")
        where = t("class_job_running", epoch=len(record.history), total=record.run.train.epochs) \
            if record.status == "running" else t("class_job_queued", position=manager.queue_position(record.key) or 1)
        text_column.markdown(f"**{run_label(record.run)}** — {where}")
        if manager.can_stop(record.key, TEACHER, class_code or ""):
            button_column.button(t("stop_button"), key=f"class_stop_{record.key}", width="stretch",
                                 on_click=stop_job, args=(record.key,))
        else:
            button_column.caption(t("class_job_other_class"))


def delete_model(key: str) -> None:
    try:
        delete_run(app_home(), store, key)
    except ValueError:  # it started training again meanwhile
        pass


def imported_models() -> None:
    """Models brought in by file take disk: the teacher may delete them (a run trained here stays)."""
    imported = [record for record in store.all() if record.origin == "imported" and record.status != "evicted"]
    if not imported:
        return
    with st.expander(t("imported_title", count=len(imported)), icon=":material/upload_file:"):
        for record in imported:
            text_column, button_column = st.columns([4, 1], vertical_alignment="center")
            text_column.markdown(run_label(record.run))
            button_column.button(t("imported_delete"), key=f"delete_{record.key}", width="stretch",
                                 on_click=delete_model, args=(record.key,))


if is_teacher():
    if st.button(t("board_clear"), icon=":material/delete_sweep:"):
        st.session_state[keys.CONFIRM_CLEAR] = True
    if st.session_state.get(keys.CONFIRM_CLEAR):
        confirm_clear()
    if st.session_state.pop(keys.BOARD_CLEARED, False):
        st.toast(t("board_cleared"))
    class_jobs()
    imported_models()
axis = st.radio(t("board_axis"), ("params", "time"), key="board_axis", horizontal=True,
                format_func=lambda name: t(f"board_axis_{name}"))


@st.fragment(run_every=REFRESH_SECONDS)
@state.survives_store_errors
def board() -> None:
    entries = store.board(class_code)
    if not entries:
        st.info(t("board_empty"))
        return
    mine = [entry for entry in entries if owner in entry.owners]
    best = max(entries, key=lambda entry: entry.record.best.val_acc).record
    sessions = {person for entry in entries for person in entry.owners}
    st.caption(t("board_summary", runs=count_of("n_runs", len(entries)),
                 sessions=count_of("n_browsers", len(sessions)), mine=len(mine),
                 best=best.best.val_acc, best_model=run_label(best.run)))
    charts.show(charts.class_board(entries, owner, axis), key="class_board")
    # The chart's text alternative: every point as a row, best first.
    rows = [{t("col_model"): run_label(entry.record.run), t("col_params"): number(entry.record.params),
             t("col_best_val"): percent(entry.record.best.val_acc),
             t("col_total"): decimal(entry.record.total_seconds, 0),
             t("board_yours"): "★" if owner in entry.owners else ""}
            for entry in sorted(entries, key=lambda entry: -entry.record.best.val_acc)]
    st.table(pd.DataFrame(rows).set_index(t("col_model")))


board()
