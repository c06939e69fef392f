"""Explore: click a test image, see the prediction and what every filter of every conv layer sees. This page
chooses the run and its epoch; the views are in fmnist_ui/explore_views.py."""
import streamlit as st

from fmnist_core.storage import CheckpointError, app_home, saved_epochs
from fmnist_ui import keys, state
from fmnist_ui.describe import record_label
from fmnist_ui.explore_views import VIEWS, ExploredRun, show_view
from fmnist_ui.i18n import class_names, current_language, t
from fmnist_ui.model_files import model_file_box
from fmnist_ui.share import image_index, shared_value

st.header(t("page_explore"))
st.markdown(t("explore_intro"))
with st.expander(t("what_is_map_title")):
    st.markdown(t("what_is_map"))

data = state.dataset()
names = class_names(current_language())
home = app_home()
runs = [record for record in state.store().all() if record.history and saved_epochs(home, record.key)]
if not runs:
    st.info(t("no_runs"))
    model_file_box(None)
    st.stop()

run_keys = [record.key for record in runs]
if shared_value("run") in run_keys and not st.session_state.get(keys.RUN_LINK_APPLIED):
    st.session_state[keys.RUN_LINK_APPLIED] = True
    st.session_state[keys.EXPLORE_RUN] = shared_value("run")
    image = image_index(shared_value("image"), len(data.test_images))
    if image is not None:
        st.session_state[keys.SELECTED_IMAGE] = image
        st.session_state.pop(keys.GALLERY_PAGE, None)
if st.session_state.get(keys.EXPLORE_RUN) not in run_keys:
    st.session_state[keys.EXPLORE_RUN] = run_keys[0]
records = {record.key: record for record in runs}
run_column, epoch_column = st.columns([2, 1])
key = run_column.selectbox(t("run"), run_keys, key=keys.EXPLORE_RUN, format_func=lambda k: record_label(records[k]))
if st.session_state.get(keys.TOUCHED_RUN) != key:  # opened now: the disk quota keeps recently used runs
    state.store().touch(key)
    st.session_state[keys.TOUCHED_RUN] = key
epochs = saved_epochs(home, key)
epoch = epochs[-1]
if len(epochs) > 1:
    epoch = epoch_column.select_slider(t("epoch_scrubber"), epochs, value=epochs[-1], key=f"epoch_{key}")
try:
    model = state.checkpoint(key, epoch).model
except CheckpointError as error:
    st.error(t("checkpoint_error", error=error))
    model_file_box(None)
    st.stop()
model_file_box(key)


shown = ExploredRun(key, epoch, model, records[key])
if st.session_state.get(keys.EXPLORE_VIEW) not in VIEWS:
    st.session_state[keys.EXPLORE_VIEW] = "maps"
view = st.radio(t("view"), VIEWS, key=keys.EXPLORE_VIEW, horizontal=True, label_visibility="collapsed",
                format_func=lambda name: t(f"tab_{name}"))
show_view(view, shown, runs, data, names)
