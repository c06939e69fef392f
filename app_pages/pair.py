"""MLP vs CNN: one button trains (or fetches) both on the same recipe, seed and data order; one screen compares."""
import pandas as pd
import streamlit as st

from fmnist_core.kinds.cnn import CNNSpec
from fmnist_core.models import build_model
from fmnist_core.presets import DEFAULT_PRESET, PRESETS, SEED_CNN, mlp_vs_cnn
from fmnist_core.runstore import ACTIVE
from fmnist_ui import charts, state
from fmnist_ui.describe import OPTIMIZER_NAMES, model_label
from fmnist_ui.i18n import formatted_table, t
from fmnist_ui.widgets import checked_spec, ensure_defaults

POLL_SECONDS = 1.0

ensure_defaults()
built, _ = checked_spec()
train = built.train if built is not None else PRESETS[DEFAULT_PRESET].train
cnn = built.model if built is not None and isinstance(built.model, CNNSpec) else SEED_CNN
pair = dict(zip(("mlp", "cnn"), mlp_vs_cnn(train, cnn), strict=True))
manager = state.job_manager()

st.header(t("page_pair"))
st.markdown(t("pair_intro"))
st.caption(t("pair_recipe", optimizer=OPTIMIZER_NAMES[train.optimizer], lr=train.lr, batch=train.batch_size,
             epochs=train.epochs, seed=train.seed))
st.page_link("app_pages/train.py", label=t("pair_change"), icon=":material/tune:")
for column, (kind, run) in zip(st.columns(2), pair.items(), strict=True):
    column.metric(t(f"kind_{kind}"), model_label(run.model), border=True,
                  delta=t("pair_params", count=build_model(run.model).param_count), delta_color="off",
                  delta_arrow="off")

records = {kind: state.store().get(run.key) for kind, run in pair.items()}
active = any(record is not None and record.status in ACTIVE for record in records.values())
if st.button(t("pair_button"), type="primary", disabled=active, icon=":material/compare_arrows:"):
    for run in pair.values():
        state.submit_run(run)
    st.rerun()
state.show_refusal()


def verdict(mlp: float, cnn: float, mlp_params: int, cnn_params: int) -> str:
    """The pair's outcome in errors per 100 test images: the CNN's share of the MLP's mistakes it avoids."""
    if cnn <= mlp:
        return t("pair_verdict_mlp", mlp=mlp, cnn=cnn)
    fewer = 1 - (1 - cnn) / (1 - mlp)  # the share of the MLP's mistakes the CNN avoids
    return t("pair_verdict_cnn", cnn=cnn, mlp=mlp, cnn_errors=(1 - cnn) * 100, mlp_errors=(1 - mlp) * 100,
             fewer=fewer, cnn_params=cnn_params, mlp_params=mlp_params)


def comparison(was_active: bool) -> None:
    records = {kind: state.store().get(run.key) for kind, run in pair.items()}
    trained = {kind: record for kind, record in records.items() if record is not None and record.history}
    rows = [{
        t("col_model"): t(f"kind_{kind}"), t("col_status"): t("status_name_" + record.status),
        t("col_params"): record.params, t("col_best_val"): record.best.val_acc * 100,
        t("col_errors"): (1 - record.best.val_acc) * 100,
        t("col_sec_epoch"): record.total_seconds / len(record.history),
        t("col_epochs"): f"{len(record.history)}/{record.run.train.epochs}",
    } for kind, record in trained.items()]
    if rows:
        st.dataframe(formatted_table(pd.DataFrame(rows), {
            t("col_params"): ("number", 0), t("col_best_val"): ("percent", 2), t("col_errors"): ("decimal", 1),
            t("col_sec_epoch"): ("decimal", 2),
        }), hide_index=True, width="stretch")
    waiting = [t(f"kind_{kind}") + ": " + (t("status_name_" + record.status) if record else t("pair_not_trained"))
               for kind, record in records.items() if kind not in trained]
    if waiting:
        st.caption(" · ".join(waiting))
    if trained:
        names = [t(f"kind_{kind}") for kind in trained]
        charts.show(charts.validation_overlay(list(trained.values()), names, title=t("pair_chart_title")),
                    key="pair_overlay")
    if len(trained) == 2 and all(record.status == "done" for record in trained.values()):
        mlp, cnn_record = trained["mlp"], trained["cnn"]
        st.success(verdict(mlp.best.val_acc, cnn_record.best.val_acc, mlp.params, cnn_record.params))
    still_active = any(record is not None and record.status in ACTIVE for record in records.values())
    if was_active and not still_active:
        st.rerun()


st.fragment(state.survives_store_errors(comparison), run_every=POLL_SECONDS if active else None)(active)
