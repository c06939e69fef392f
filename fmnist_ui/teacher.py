"""Teacher mode: the door (the server's teacher code, from the link the server printed at start) and the panel
(create or open a class, lock and hide controls, send the current model, cap the class's jobs, put the class's
code and QR on the projector). The code leaves the address bar at once and appears in no link a student sees;
the tab's session stays the teacher's. A lesson is saved when the teacher acts, never on a rerun."""
from __future__ import annotations

import io
import logging
import math
import time
from pathlib import Path
from urllib.parse import urlencode

import segno
import streamlit as st

from fmnist_core.classes import LessonError, checked_settings, display_code
from fmnist_core.limits import CLASS_NAME_LENGTH, CLASS_RUNNING_CAP_RANGE, MAX_TEACHER_CODE_TEXT
from fmnist_core.quota import disk_use
from fmnist_core.storage import app_home
from fmnist_core.teacher import code_matches, public_base_url, teacher_code, teacher_link

from . import keys, state
from .i18n import decimal, t
from .locks import LESSON_PARAMS, controls
from .share import shared_value

log = logging.getLogger("fmnist_explorer")


@st.cache_resource(show_spinner=False)
def _server_teacher_code(home: str) -> str:
    """The teacher code of this home (made at the first start); its link goes to the server's log once."""
    code = teacher_code(Path(home))
    base, _ = public_base_url(None)
    log.warning("Teacher link (keep it off the projector): %s", teacher_link(base, code))
    return code


def server_teacher_code() -> str:
    return _server_teacher_code(str(app_home()))


@st.cache_data(ttl=30, show_spinner=False)
def _disk_use(home: str) -> tuple[int, int]:
    """The runs' disk use and the quota: a walk over every run folder, so at most twice a minute, not per rerun."""
    use = disk_use(Path(home))
    return use.used, use.quota


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher"))


def teacher_class() -> str | None:
    """The code of the class this teacher has open (None: the students in no class)."""
    return st.session_state.get(keys.TEACHER_CLASS) if is_teacher() else None


def sign_in_from_link() -> None:
    """The opening link's `?teacher=` (first run of a session): tried once, then gone from the address bar and
    from the remembered query, whatever the answer."""
    given = shared_value("teacher")
    st.session_state[keys.OPENED_WITH].pop("teacher", None)
    if "teacher" in st.query_params:
        del st.query_params["teacher"]
    if given is not None and not is_teacher():
        _try_code(given)


def _try_code(given: str) -> None:
    limiter, guess = state.guess_limiters()["teacher"], state.guess_keys()
    wait = limiter.wait_seconds(*guess)
    if wait > 0:  # not even looked at: a guess every few seconds, then minutes, then an hour
        st.session_state[keys.TEACHER_REFUSED] = time.monotonic() + wait
        return
    if code_matches(given, server_teacher_code()):
        limiter.succeeded(*guess)
        st.session_state["teacher"] = True
        st.session_state.pop(keys.TEACHER_REFUSED, None)
        return
    st.session_state[keys.TEACHER_REFUSED] = time.monotonic() + limiter.failed(*guess)


def sign_in_box() -> None:
    """After a wrong teacher code: say so, and let the teacher type it (students who never tried see nothing)."""
    if is_teacher() or keys.TEACHER_REFUSED not in st.session_state:
        return
    wait = st.session_state[keys.TEACHER_REFUSED] - time.monotonic()
    with st.sidebar.form("teacher_sign_in", border=True, enter_to_submit=True):
        if wait > 0:
            st.warning(t("teacher_code_wait", seconds=math.ceil(wait)))
        else:
            st.warning(t("teacher_code_wrong"))
        typed = st.text_input(t("teacher_code_input"), type="password", max_chars=MAX_TEACHER_CODE_TEXT)
        if st.form_submit_button(t("teacher_sign_in")):
            _try_code(typed)
            st.rerun()


def students_base_url() -> tuple[str, str]:
    """The address students' links and the QR carry, and where it came from (teacher.public_base_url)."""
    return public_base_url(st.context.url)


def code_link(code: str) -> str:
    """The short address of a class: what the QR code holds."""
    base, _ = students_base_url()
    return f"{base}/?{urlencode({'c': code, 'lang': st.session_state.get('lang', 'en')})}"


def student_link() -> str:
    """This view's address for students: the current query (spec, run, image, language, locks)."""
    query = {name: value for name, value in st.query_params.to_dict().items() if name != "teacher"}
    base, _ = students_base_url()
    return f"{base}/?{urlencode(query)}" if query else base


def qr_png(text: str) -> bytes:
    """A QR code for `text` as a PNG, large enough to scan from the back of a classroom when projected."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=12, border=4)
    return buffer.getvalue()


def projector_view(code: str) -> None:
    """The class code, its short link and a QR code, as large as the projector allows (a dialog titled in the
    session's language, hence decorated here and not at import)."""
    st.dialog(t("lesson_code_show"), width="large")(_projector_body)(code)


def _projector_body(code: str) -> None:
    link = code_link(code)
    qr_column, code_column = st.columns([1, 1], vertical_alignment="center")
    qr_column.image(qr_png(link), width=400, alt=t("qr_alt", link=link))
    with code_column:
        st.markdown(f"### {t('lesson_code_input')}")
        # as large as the dialog allows: read from the back of a classroom
        st.html(f'<p style="font-size:5rem;font-weight:700;letter-spacing:0.15em;margin:0;line-height:1.1;'
                f'white-space:nowrap">{display_code(code)}</p>')
        st.markdown(t("lesson_code_how", code=display_code(code)))
    st.code(link, language=None, wrap_lines=True)
    _, source = students_base_url()
    if source in ("network", "loopback"):
        st.caption(t(f"link_source_{source}"))


def _teacher_spec() -> str | None:
    """The model the teacher's widgets describe now, as a link's spec text; the last valid one when they describe
    none (an impossible architecture, or widgets not set up yet)."""
    from .share import encode_run
    from .widgets import checked_spec

    run, _ = checked_spec()
    if run is not None:
        st.session_state[keys.TEACHER_SPEC] = encode_run(run)
    return st.session_state.get(keys.TEACHER_SPEC)


def _save_locks() -> None:
    """The teacher changed what is locked or hidden: the class's lesson changes (its model stays)."""
    code = teacher_class()
    lesson = st.session_state["lesson"]
    for name in LESSON_PARAMS:
        lesson[name] = list(st.session_state.get(f"teacher_{name}", lesson[name]))
    if code is not None:
        current = state.classes().get(code)
        spec = current.settings.spec if current is not None else None
        state.classes().update(code, checked_settings(lesson["lock"], lesson["hide"], spec))


def _send_model() -> None:
    """The teacher's current model becomes the class's: students following the code get it within seconds."""
    code = teacher_class()
    lesson = st.session_state["lesson"]
    if code is not None:
        state.classes().update(code, checked_settings(lesson["lock"], lesson["hide"], _teacher_spec()))
        st.session_state[keys.MODEL_SENT] = True


def open_class(code: str) -> None:
    school_class = state.classes().get(code)
    if school_class is None:
        return
    st.session_state[keys.TEACHER_CLASS] = school_class.code
    st.session_state["lesson"] = {"lock": list(school_class.settings.lock), "hide": list(school_class.settings.hide)}
    for name in LESSON_PARAMS:
        st.session_state[f"teacher_{name}"] = st.session_state["lesson"][name]
    state.classes().join(state.session_owner(), school_class.code)  # the teacher's runs go on its board too


def _create_class() -> None:
    lesson = st.session_state["lesson"]
    try:
        code = state.classes().create(st.session_state.get("new_class_name", ""),
                                      checked_settings(lesson["lock"], lesson["hide"], _teacher_spec()))
    except LessonError:
        st.session_state[keys.CLASS_NAME_ERROR] = True
        return
    open_class(code)


def _leave_class() -> None:
    st.session_state.pop(keys.TEACHER_CLASS, None)
    state.classes().leave(state.session_owner())


def _set_cap() -> None:
    code = teacher_class()
    if code is not None:
        state.classes().set_running_cap(code, int(st.session_state["class_running_cap"]))


def teacher_panel() -> None:
    """Sidebar panel, teacher mode only."""
    if not is_teacher():
        return
    with st.sidebar.expander(t("teacher_title"), expanded=True, icon=":material/school:"):
        code = teacher_class()
        school_class = state.classes().get(code) if code else None
        if school_class is None:
            _class_chooser()
        else:
            _class_controls(school_class)
        used, quota = _disk_use(str(app_home()))
        st.caption(t("disk_use", used=decimal(used / 2**30, 2), quota=decimal(quota / 2**30, 1)))


def _lock_widgets() -> None:
    """What students may not change (locked) or see (hidden): saved to the open class as soon as it changes."""
    lesson = st.session_state["lesson"]
    for name in LESSON_PARAMS:
        st.session_state.setdefault(f"teacher_{name}", lesson[name])
        st.multiselect(t(f"teacher_{name}"), controls(), key=f"teacher_{name}", placeholder=t("choose"),
                       select_all=False, on_change=_save_locks, format_func=lambda control: t(f"control_{control}"))


def _class_chooser() -> None:
    st.markdown(t("class_none_open"))
    with st.form("create_class", border=False, enter_to_submit=True):
        st.text_input(t("class_name"), key="new_class_name", max_chars=CLASS_NAME_LENGTH,
                      placeholder=t("class_name_example"))
        st.form_submit_button(t("class_create"), icon=":material/add:", on_click=_create_class, width="stretch")
    if st.session_state.pop(keys.CLASS_NAME_ERROR, False):
        st.error(t("class_name_invalid", limit=CLASS_NAME_LENGTH))
    existing = state.classes().all()
    if existing:
        names = {school_class.code: f"{school_class.name} · {display_code(school_class.code)}"
                 for school_class in existing}
        chosen = st.selectbox(t("class_open"), list(names), format_func=names.get, index=None,
                              placeholder=t("choose"))
        if chosen and st.button(t("class_open_button"), width="stretch"):
            open_class(chosen)
            st.rerun()
    _lock_widgets()
    st.caption(t("teacher_link"))
    st.code(student_link(), language=None, wrap_lines=True)


def _class_controls(school_class) -> None:
    st.markdown(t("class_is", name=school_class.name, code=display_code(school_class.code)))
    if st.button(t("lesson_code_show"), icon=":material/co_present:", width="stretch"):
        projector_view(school_class.code)
    _lock_widgets()
    st.button(t("class_send_model"), icon=":material/send:", on_click=_send_model, width="stretch")
    if st.session_state.pop(keys.MODEL_SENT, False):
        st.caption(t("class_model_sent"))
    st.caption(t("lesson_code_live"))
    low, high = CLASS_RUNNING_CAP_RANGE
    slots = state.job_manager().max_jobs
    st.session_state.setdefault("class_running_cap", min(high, school_class.running_cap or slots))
    st.number_input(t("class_running_cap"), min_value=low, max_value=high, step=1, key="class_running_cap",
                    on_change=_set_cap, help=t("class_running_cap_help", slots=slots))
    st.button(t("class_leave"), on_click=_leave_class, width="stretch")
