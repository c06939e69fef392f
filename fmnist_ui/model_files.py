"""Take a model home (download its `.pt` file) and bring one back (upload, validated by the core)."""
from __future__ import annotations

import streamlit as st

from fmnist_core.storage import app_home
from fmnist_core.transfer import MAX_MODEL_BYTES, ModelFileError, export_run, import_run

from . import keys, state
from .describe import run_label
from .i18n import t


def _read_model_upload() -> None:
    """Uploader callback: validate and add the model once; remember the outcome to show it."""
    uploaded = st.session_state.get(keys.MODEL_UPLOAD)
    st.session_state.pop(keys.MODEL_UPLOAD_OUTCOME, None)
    if uploaded is None:
        return
    try:
        result = import_run(app_home(), state.store(), uploaded.getvalue(), owner=state.session_owner())
    except ModelFileError as error:
        st.session_state[keys.MODEL_UPLOAD_OUTCOME] = ("error", error.code, str(error))
        return
    key = result.record.key
    state.store().post(key, state.session_owner())
    st.session_state[keys.EXPLORE_RUN] = key
    st.session_state[keys.MODEL_UPLOAD_OUTCOME] = ("here" if result.already_here else "added", key,
                                                run_label(result.record.run))


def model_file_box(key: str | None) -> None:
    """Download the selected run (when there is one) and upload a model file, with the outcome shown."""
    with st.expander(t("model_file_title"), icon=":material/swap_vert:"):
        if key is not None:
            st.download_button(t("download_model"), data=lambda: export_run(app_home(), state.store(), key),
                               file_name=f"fmnist-model-{key}.pt", mime="application/octet-stream",
                               on_click="ignore", icon=":material/download:", key="download_model")
            st.caption(t("download_help"))
        st.file_uploader(t("upload_model"), type=["pt"], key=keys.MODEL_UPLOAD, on_change=_read_model_upload,
                         max_upload_size=MAX_MODEL_BYTES // 2**20)
        outcome = st.session_state.get(keys.MODEL_UPLOAD_OUTCOME)
        if outcome is None:
            return
        kind, first, second = outcome
        if kind == "error":
            st.error(t("model_rejected", reason=t(f"model_error_{first}")))
            st.caption(second)
            return
        st.success(t(f"model_{kind}", summary=second))
        record = state.store().get(first)
        if record is not None and record.origin == "imported" and record.final is not None:
            claim = {"claimed": record.final.val_acc, "measured": record.measured_acc or 0.0}
            if record.verified:
                st.caption(t("model_verified", **claim))
            else:
                st.warning(t("model_unverified", **claim))
