"""Class board: every run trained or fetched on this server since the teacher last cleared it, on one scatter."""
import pandas as pd
import streamlit as st

from fmnist_ui import charts, state
from fmnist_ui.describe import run_label
from fmnist_ui.i18n import decimal, number, percent, t
from fmnist_ui.lesson import is_teacher

REFRESH_SECONDS = 5.0  # the board fills up while the class trains

st.header(t("page_board"))
st.markdown(t("board_intro"))
owner = state.session_owner()
store = state.store()
if is_teacher() and st.button(t("board_clear"), icon=":material/delete_sweep:"):
    store.clear_board()
    st.toast(t("board_cleared"))
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
