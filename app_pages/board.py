"""Class board: every run trained or fetched on this server since the teacher last cleared it, on one scatter."""
import pandas as pd
import streamlit as st

from fmnist_core.jobs import TEACHER
from fmnist_ui import charts, keys, state
from fmnist_ui.describe import run_label
from fmnist_ui.i18n import decimal, number, percent, t
from fmnist_ui.lesson import is_teacher

REFRESH_SECONDS = 5.0  # the board fills up while the class trains

st.header(t("page_board"))
st.markdown(t("board_intro"))
owner = state.session_owner()
store = state.store()


def confirm_clear() -> None:
    """Clearing takes every student's point off the projected board: asked once more, with the count (inline, not
    a dialog: a screen reader stays where it was, and the question survives a rerun)."""
    st.warning(t("board_clear_confirm", runs=len(store.board())))
    yes, no = st.columns(2)
    if yes.button(t("board_clear_yes"), type="primary", width="stretch"):
        store.clear_board()
        st.session_state[keys.CONFIRM_CLEAR] = False
        st.session_state[keys.BOARD_CLEARED] = True
        st.rerun()
    if no.button(t("board_clear_no"), width="stretch"):
        st.session_state[keys.CONFIRM_CLEAR] = False
        st.rerun()


@st.fragment(run_every=REFRESH_SECONDS)
def class_jobs() -> None:
    """The teacher's view of every running and queued job of the class, each with Stop."""
    manager = state.job_manager()
    records = [record for key in store.active_keys() if (record := store.get(key)) is not None]
    st.markdown(f"### {t('class_jobs')}")
    if not records:
        st.caption(t("class_jobs_none"))
        return
    for record in records:
        text_column, button_column = st.columns([4, 1], vertical_alignment="center")
        where = t("class_job_running", epoch=len(record.history), total=record.run.train.epochs) \
            if record.status == "running" else t("class_job_queued", position=manager.queue_position(record.key) or 1)
        text_column.markdown(f"**{run_label(record.run)}** — {where}")
        button_column.button(t("stop_button"), key=f"class_stop_{record.key}", width="stretch",
                             on_click=manager.cancel, args=(record.key,), kwargs={"who": TEACHER})


if is_teacher():
    if st.button(t("board_clear"), icon=":material/delete_sweep:"):
        st.session_state[keys.CONFIRM_CLEAR] = True
    if st.session_state.get(keys.CONFIRM_CLEAR):
        confirm_clear()
    if st.session_state.pop(keys.BOARD_CLEARED, False):
        st.toast(t("board_cleared"))
    class_jobs()
axis = st.radio(t("board_axis"), ("params", "time"), key="board_axis", horizontal=True,
                format_func=lambda name: t(f"board_axis_{name}"))


@st.fragment(run_every=REFRESH_SECONDS)
def board() -> None:
    entries = store.board()
    if not entries:
        st.info(t("board_empty"))
        return
    mine = [entry for entry in entries if owner in entry.owners]
    best = max(entries, key=lambda entry: entry.record.best.val_acc).record
    sessions = {person for entry in entries for person in entry.owners}
    st.caption(t("board_summary", runs=len(entries), sessions=len(sessions), mine=len(mine),
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
