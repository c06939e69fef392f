"""Entry point: `streamlit run app.py`. Language, navigation and start-up checks; pages do the rest."""
import streamlit as st

from fmnist_core.data import DatasetError
from fmnist_core.runstore import RunStoreError
from fmnist_core.settings import SettingError, check_environment
from fmnist_core.storage import HomeError
from fmnist_ui import keys, state
from fmnist_ui.i18n import LANGUAGES, current_language, t
from fmnist_ui.lesson import apply_lesson_settings, join_box, watch_lesson
from fmnist_ui.shell import page_shell
from fmnist_ui.teacher import server_teacher_code, sign_in_box, teacher_panel
from fmnist_ui.widgets import keep_widget_values

TRANSIENT_STORE_ERRORS = ("locked", "unavailable")  # they pass: the page says to wait and click again

st.set_page_config(page_title="Fashion-MNIST CNN explorer", page_icon=":material/checkroom:", layout="wide")
language = current_language()
keep_widget_values()

with st.sidebar:
    st.markdown(f"### {t('app_title')}")
    st.radio(t("language"), list(LANGUAGES), key="lang", format_func=LANGUAGES.get, horizontal=True)
# Page switches clear the URL's query: write the language and lesson settings back on every run.
st.query_params["lang"] = st.session_state["lang"]
if keys.GUIDE_STEP in st.session_state:  # the guided lesson's progress: a reload or a shared link resumes it
    st.query_params["step"] = str(st.session_state[keys.GUIDE_STEP])
try:
    check_environment()  # FMNIST_* settings the administrator gave: wrong ones are said here, not mid-training
    server_teacher_code()  # made at the first start, its link in the server's log
except SettingError as error:  # e.g. a teacher code too short to stand guessing: no page at all until fixed
    st.error(t("setting_error"))
    st.code(str(error), language=None)
    st.stop()
except HomeError as error:
    st.error(t(f"home_{error.code}", path=error.path))
    st.stop()
try:  # the class store busy or broken: said in the sidebar, the app goes on without it
    apply_lesson_settings()
    sign_in_box()
    teacher_panel()
    join_box()
    watch_lesson()
except RunStoreError as error:
    st.sidebar.error(t(f"store_error_{error.code}"))
except HomeError as error:
    st.sidebar.error(t(f"home_{error.code}", path=error.path))

def store_trouble(error: RunStoreError) -> None:
    """The store's trouble in the student's language: a pause (busy, a database restarting) as a warning that
    says to click again, a real fault as an error."""
    (st.warning if error.code in TRANSIENT_STORE_ERRORS else st.error)(t(f"store_error_{error.code}"))
    st.caption(str(error))


pages = [
    st.Page("app_pages/lesson.py", title=t("page_lesson"), icon=":material/school:"),
    st.Page("app_pages/convolution.py", title=t("page_convolution"), icon=":material/grid_on:"),
    st.Page("app_pages/train.py", title=t("page_train"), icon=":material/science:", default=True),
    st.Page("app_pages/explore.py", title=t("page_explore"), icon=":material/image_search:"),
    st.Page("app_pages/pair.py", title=t("page_pair"), icon=":material/compare_arrows:"),
    st.Page("app_pages/compare.py", title=t("page_compare"), icon=":material/monitoring:"),
    st.Page("app_pages/board.py", title=t("page_board"), icon=":material/scatter_plot:"),
]
navigation = st.navigation(pages)
page_title = f"{navigation.title} · {t('app_title')}"
st.set_page_config(page_title=page_title)
page_shell(language, page_title)

try:
    state.dataset()
except DatasetError as error:
    st.error(t("dataset_missing"))
    st.code(str(error), language=None)
    st.stop()

try:
    state.job_manager()  # opens the home folder and the run store: a broken home is said once, plainly
except HomeError as error:
    st.error(t(f"home_{error.code}", path=error.path))
    st.caption(str(error))
    st.stop()
except RunStoreError as error:
    store_trouble(error)
    st.stop()
state.settle_heap()

try:
    navigation.run()
except RunStoreError as error:  # e.g. the database is locked by another process for too long, or the disk is full
    store_trouble(error)
except HomeError as error:
    st.error(t(f"home_{error.code}", path=error.path))
    st.caption(str(error))
