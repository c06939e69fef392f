"""Lessons for students. A lesson locks or hides controls, as TensorFlow Playground allows: either in a link
(`?lock=` and `?hide=`, comma-separated control names) or, better for a projector, under a class's code
(`?c=K7Q4MX`, or typed in the sidebar), whose later changes reach students who already have it open. Following a
code makes the student a member of that class: their runs go on its board. Wrong codes are slowed down."""
from __future__ import annotations

import math
import time

import streamlit as st

from fmnist_core.classes import display_code, parse_code
from fmnist_core.limits import CODE_LENGTH, MAX_CODE_TEXT
from fmnist_core.runstore import RunStoreError
from fmnist_core.storage import HomeError

from . import keys, state
from .i18n import t
from .locks import LESSON_PARAMS, known_controls
from .share import shared_value
from .teacher import is_teacher, open_class, sign_in_from_link

WATCH_SECONDS = 3.0  # how soon a teacher's change reaches a student who follows the class's code


def _follow(code: str) -> bool:
    """Take the lesson of the class under `code`: its locks, hidden controls and model, and join the class.
    False when there is none."""
    school_class = state.classes().get(code)
    if school_class is None:
        return False
    settings = school_class.settings
    st.session_state["lesson"] = {"lock": known_controls(settings.lock), "hide": known_controls(settings.hide)}
    if st.session_state.get(keys.LESSON_CODE) != school_class.code:
        state.classes().join(state.session_owner(), school_class.code)
    st.session_state[keys.LESSON_CODE] = school_class.code
    st.session_state[keys.LESSON_NAME] = school_class.name
    st.session_state[keys.LESSON_VERSION] = school_class.version
    if settings.spec and settings.spec != st.session_state.get(keys.LESSON_SPEC):
        # the Build & train page applies a link's model once: hand it this one as if the link carried it
        st.session_state[keys.LESSON_SPEC] = settings.spec
        st.session_state.setdefault(keys.OPENED_WITH, {})["spec"] = settings.spec
        st.session_state.pop(keys.SPEC_LINK_APPLIED, None)
    return True


def _try_code(typed: str | None) -> None:
    """Follow a code a student typed or opened, counted against guessing when it names no class."""
    limiter, guess = state.guess_limiters()["class"], state.guess_keys()
    wait = limiter.wait_seconds(*guess)
    if wait > 0:
        st.session_state[keys.LESSON_MISSING] = ("wait", time.monotonic() + wait)
        return
    code = parse_code(typed)
    if code is not None and _follow(code):
        return
    limiter.failed(*guess)
    st.session_state[keys.LESSON_MISSING] = ("unknown", code) if code else ("invalid", None)


def apply_lesson_settings() -> None:
    """Read the opening link's lesson once per session and keep it in the URL on every run (page switches clear
    the query). The teacher code is never written back."""
    if "lesson" not in st.session_state:
        st.session_state["lesson"] = {name: known_controls(shared_value(name)) for name in LESSON_PARAMS}
        sign_in_from_link()
        opened = shared_value("c")
        if opened and is_teacher():  # the teacher's reload (or a second tab) takes the class back
            open_class(parse_code(opened) or "")
        elif opened:
            _try_code(opened)
    code = st.session_state.get(keys.LESSON_CODE)
    for name in LESSON_PARAMS:
        chosen = st.session_state["lesson"][name]
        if chosen and not code:
            st.query_params[name] = ",".join(chosen)
        elif name in st.query_params:
            del st.query_params[name]
    code = code or st.session_state.get(keys.TEACHER_CLASS)
    if code:
        st.query_params["c"] = code
    elif "c" in st.query_params:
        del st.query_params["c"]


def current_class() -> str | None:
    """The class this session is in: the one its teacher has open, or the one the student follows."""
    return st.session_state.get(keys.TEACHER_CLASS) if is_teacher() else st.session_state.get(keys.LESSON_CODE)


def join_box() -> None:
    """Sidebar, for students: type the code on the projector to join the class and follow its lesson."""
    if is_teacher():
        return
    missing = st.session_state.pop(keys.LESSON_MISSING, None)
    if missing:
        kind, detail = missing
        if kind == "wait":
            st.sidebar.warning(t("lesson_code_wait", seconds=math.ceil(max(1.0, detail - time.monotonic()))))
        elif kind == "unknown":
            st.sidebar.warning(t("lesson_code_unknown", code=display_code(detail)))
        else:
            st.sidebar.warning(t("lesson_code_invalid", length=CODE_LENGTH))
    code = st.session_state.get(keys.LESSON_CODE)
    if code:
        st.sidebar.caption(t("lesson_following", name=st.session_state.get(keys.LESSON_NAME, ""),
                             code=display_code(code)))
        return
    with st.sidebar.form("join_lesson", border=False, enter_to_submit=True):
        typed = st.text_input(t("lesson_code_input"), max_chars=MAX_CODE_TEXT, placeholder=t("lesson_code_example"))
        if st.form_submit_button(t("lesson_join")):
            _try_code(typed)
            st.rerun()


def watch_lesson() -> None:
    """For a student following a code: every few seconds, take the teacher's changes and redraw the page."""
    code = st.session_state.get(keys.LESSON_CODE)
    if not code or is_teacher():
        return

    @st.fragment(run_every=WATCH_SECONDS)
    def check() -> None:
        try:
            school_class = state.classes().get(code)
        except (RunStoreError, HomeError):  # busy or broken for a moment: the next check tries again
            return
        if school_class is not None and school_class.version != st.session_state.get(keys.LESSON_VERSION):
            _follow(code)
            st.rerun(scope="app")

    with st.sidebar:
        check()
