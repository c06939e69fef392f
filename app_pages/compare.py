"""Compare: every run on this server in one sortable table; curves of the selected ones side by side."""
import pandas as pd
import streamlit as st

from fmnist_core.metrics import early_stopping
from fmnist_ui import charts, state
from fmnist_ui.describe import record_label, run_label
from fmnist_ui.i18n import formatted_table, t
from fmnist_ui.widgets import column_heading

st.header(t("page_compare"))
st.markdown(t("compare_intro"))
with st.expander(t("what_is_overfit_title")):
    st.markdown(t("what_is_overfit"))

records = state.store().all()
if not records:
    st.info(t("no_runs"))
    st.stop()

def source_name(record) -> str:
    if record.origin == "imported":
        return t("source_imported") if record.verified else t("claimed_by_file")
    return t("source_live") if record.status in ("queued", "running") else t("source_cached")


rows = []
for record in records:
    best, final = record.best, record.final
    rows.append({
        t("col_model"): run_label(record.run),
        t("col_params"): record.params,
        t("col_epochs"): len(record.history),
        # NaN, not None, for a run without epochs: a number column stays numeric (None showed as "None")
        t("col_best_val"): best.val_acc * 100 if best else float("nan"),
        t("col_final_val"): final.val_acc * 100 if final else float("nan"),
        t("col_final_train"): final.train_acc * 100 if final else float("nan"),
        t("col_sec_epoch"): record.total_seconds / len(record.history) if record.history else float("nan"),
        t("col_total"): record.total_seconds,
        t("col_device"): (record.device or "").upper(),
        t("col_status"): t("status_name_" + record.status),
        t("col_source"): source_name(record),
    })
st.dataframe(formatted_table(pd.DataFrame(rows), {
    t("col_params"): ("number", 0), t("col_best_val"): ("percent", 2), t("col_final_val"): ("percent", 2),
    t("col_final_train"): ("percent", 2), t("col_sec_epoch"): ("decimal", 1), t("col_total"): ("decimal", 1),
}), hide_index=True, width="stretch")

with_history = [record for record in records if record.history]
by_key = {record.key: record for record in with_history}
chosen = st.multiselect(
    t("select_runs"), list(by_key), default=list(by_key)[:3], key="compare_runs", placeholder=t("choose"),
    select_all=False,
    format_func=lambda key: record_label(by_key[key]),
)
selected = [by_key[key] for key in chosen]
if selected:
    overlay_column, scatter_column = st.columns(2)
    # Titles as headings above the charts: they wrap in a half-width column, where a chart's own title is cut.
    with overlay_column:
        column_heading(t("overlay_title"))
        charts.show(charts.validation_overlay(selected, title=""), key="overlay")
    with scatter_column:
        column_heading(t("scatter_title"))
        charts.show(charts.accuracy_vs_time(selected, title=""), key="scatter")
    columns = st.columns(2)
    styles = charts.run_styles(selected)
    for position, record in enumerate(selected):
        column = columns[position % 2]
        charts.show(charts.train_vs_validation(record, styles[record.key]), key=f"gap_{record.key}", where=column)
        best, final = record.best, record.final
        stop = early_stopping(record.history)
        kept = next((metrics for metrics in record.history if stop and metrics.epoch == stop.kept_epoch), None)
        column.caption(t(
            "overfit_verdict", run=run_label(record.run), best=best.val_acc, best_epoch=best.epoch,
            train=final.train_acc, val=final.val_acc, gap=(final.train_acc - final.val_acc) * 100,
            stop=t("overfit_stop", stopped=stop.stopped_after, kept=stop.kept_epoch, kept_acc=kept.val_acc)
            if stop is not None else "",
        ))
        if record.run.train.label_smoothing:
            column.caption(t("smoothing_note", value=record.run.train.label_smoothing))
