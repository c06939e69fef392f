"""Teacher mode and lessons. `?teacher=` opens the teacher's panel. A lesson locks or hides controls for its
students, as TensorFlow Playground allows: either in a link (`?lock=` and `?hide=`, comma-separated control names)
or, better for a projector, under a short lesson code stored on the server (`?c=K7Q4`, or typed in the sidebar),
whose later changes reach students who already have it open."""
from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlencode

import segno
import streamlit as st

from fmnist_core.lessons import checked_settings, open_lessons, parse_code
from fmnist_core.runstore import RunStoreError
from fmnist_core.storage import HomeError, app_home

from . import keys
from .i18n import t
from .share import shared_value

CONTROLS = ("presets", "model_kind", "conv_layers", "filters", "kernel_size", "padding", "dense", "hidden",
            "epochs", "batch_size", "optimizer", "lr", "advanced")
LESSON_PARAMS = ("lock", "hide")
WATCH_SECONDS = 3.0  # how soon a teacher's change reaches a student who follows the lesson's code


def _controls(names) -> list[str]:
    """Known control names, in CONTROLS order; unknown names are ignored."""
    names = names.split(",") if isinstance(names, str) else list(names or ())
    return [name for name in CONTROLS if name in names]


def teacher_code_matches(given: str | None, expected: str | None) -> bool:
    """Any non-empty value opens teacher mode unless the server sets FMNIST_TEACHER_CODE; then it must match."""
    if not given or given == "0":
        return False
    return given == expected if expected else True


@st.cache_resource(show_spinner=False)
def _lessons(home: str):
    return open_lessons(Path(home))


def lessons():
    """The server's lesson store (one per home folder)."""
    return _lessons(str(app_home()))


def _follow(code: str) -> bool:
    """Take the lesson stored under `code`: its locks, hidden controls and model. False when there is none."""
    lesson = lessons().get(code)
    if lesson is None:
        return False
    settings = lesson.settings
    st.session_state["lesson"] = {"lock": _controls(settings.lock), "hide": _controls(settings.hide)}
    st.session_state[keys.LESSON_CODE] = lesson.code
    st.session_state[keys.LESSON_VERSION] = lesson.version
    if settings.spec and settings.spec != st.session_state.get(keys.LESSON_SPEC):
        # the Build & train page applies a link's model once: hand it this one as if the link carried it
        st.session_state[keys.LESSON_SPEC] = settings.spec
        st.session_state.setdefault(keys.OPENED_WITH, {})["spec"] = settings.spec
        st.session_state.pop(keys.SPEC_LINK_APPLIED, None)
    return True


def apply_lesson_settings() -> None:
    """Read the opening link's lesson once per session and keep it in the URL on every run (page switches clear
    the query). The teacher flag is never written back, so a copied address bar does not hand teacher mode on."""
    if "lesson" not in st.session_state:
        st.session_state["lesson"] = {name: _controls(shared_value(name)) for name in LESSON_PARAMS}
        st.session_state["teacher"] = teacher_code_matches(shared_value("teacher"),
                                                           os.environ.get("FMNIST_TEACHER_CODE"))
        opened_code = parse_code(shared_value("c"))
        if st.session_state["teacher"] and opened_code and lessons().get(opened_code) is not None:
            st.session_state[keys.TEACHER_LESSON_CODE] = opened_code  # the teacher takes their lesson back
        elif shared_value("c") and not _follow(shared_value("c")):
            # a link's text is shown only when it is a well-formed code (never markdown from a stranger)
            st.session_state[keys.LESSON_MISSING] = opened_code or "?"
    code = st.session_state.get(keys.LESSON_CODE)
    for name in LESSON_PARAMS:
        chosen = st.session_state["lesson"][name]
        if chosen and not code:
            st.query_params[name] = ",".join(chosen)
        elif name in st.query_params:
            del st.query_params[name]
    code = code or st.session_state.get(keys.TEACHER_LESSON_CODE)  # a teacher's reload keeps the lesson
    if code:
        st.query_params["c"] = code
    elif "c" in st.query_params:
        del st.query_params["c"]


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher"))


def is_locked(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("lock", ())


def is_hidden(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("hide", ())


def student_link() -> str:
    """This view's address for students: the current query (spec, run, image, language, locks), no teacher flag."""
    query = {name: value for name, value in st.query_params.to_dict().items() if name != "teacher"}
    base = st.context.url or ""
    return f"{base}?{urlencode(query)}" if query else base


def code_link(code: str) -> str:
    """The short address of a lesson: what the QR code holds."""
    language = st.session_state.get("lang", "en")
    return f"{st.context.url or ''}?{urlencode({'c': code, 'lang': language})}"


def qr_png(text: str) -> bytes:
    """A QR code for `text` as a PNG, large enough to scan from the back of a classroom when projected."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=12, border=4)
    return buffer.getvalue()


def projector_view(code: str) -> None:
    """The lesson code, its short link and a QR code, as large as the projector allows (a dialog titled in the
    session's language, hence decorated here and not at import)."""
    st.dialog(t("lesson_code_show"), width="large")(_projector_body)(code)


def _projector_body(code: str) -> None:
    link = code_link(code)
    qr_column, code_column = st.columns([1, 1], vertical_alignment="center")
    qr_column.image(qr_png(link), width=400, alt=t("qr_alt", link=link))
    with code_column:
        st.markdown(f"### {t('lesson_code_input')}")
        # as large as the dialog allows: read from the back of a classroom
        st.html(f'<p style="font-size:5rem;font-weight:700;letter-spacing:0.25em;margin:0;line-height:1.1">'
                f"{code}</p>")
        st.markdown(t("lesson_code_how", code=code))
    st.code(link, language=None, wrap_lines=True)


def _teacher_spec() -> str | None:
    """The model the teacher's widgets describe now, as a link's spec text; the last valid one when they describe
    none (an impossible architecture, or widgets not set up yet)."""
    from .share import encode_run
    from .widgets import checked_spec  # imported here: widgets reads this module's locks

    run, _ = checked_spec()
    if run is not None:
        st.session_state[keys.TEACHER_SPEC] = encode_run(run)
    return st.session_state.get(keys.TEACHER_SPEC)


def _save_lesson() -> None:
    """The teacher's current locks, hidden controls and model, saved under the lesson's code (version bumps)."""
    lesson = st.session_state["lesson"]
    settings = checked_settings(lesson["lock"], lesson["hide"], _teacher_spec())
    code = st.session_state.get(keys.TEACHER_LESSON_CODE)
    if code is None:
        st.session_state[keys.TEACHER_LESSON_CODE] = lessons().create(settings)
    else:
        lessons().update(code, settings)


def teacher_panel() -> None:
    """Sidebar panel, teacher mode only: choose controls to lock or hide, make a lesson code, copy the link."""
    if not is_teacher():
        return
    with st.sidebar.expander(t("teacher_title"), expanded=True, icon=":material/school:"):
        lesson = st.session_state["lesson"]
        for name in LESSON_PARAMS:
            st.session_state.setdefault(f"teacher_{name}", lesson[name])
            lesson[name] = st.multiselect(t(f"teacher_{name}"), CONTROLS, key=f"teacher_{name}",
                                          placeholder=t("choose"), select_all=False,
                                          format_func=lambda control: t(f"control_{control}"))
        apply_lesson_settings()
        code = st.session_state.get(keys.TEACHER_LESSON_CODE)
        if code is None:
            if st.button(t("lesson_code_make"), icon=":material/qr_code_2:", width="stretch"):
                _save_lesson()
                st.rerun()
            st.caption(t("teacher_link"))
            st.code(student_link(), language=None, wrap_lines=True)
            return
        _save_lesson()  # every change of the teacher's reaches the students following the code
        st.markdown(t("lesson_code_is", code=code))
        st.caption(t("lesson_code_live"))
        if st.button(t("lesson_code_show"), icon=":material/co_present:", width="stretch"):
            projector_view(code)


def join_box() -> None:
    """Sidebar, for students: type the code on the projector to follow the teacher's lesson."""
    if is_teacher():
        return
    missing = st.session_state.pop(keys.LESSON_MISSING, None)
    if missing:
        st.sidebar.warning(t("lesson_code_invalid") if missing == "?" else t("lesson_code_unknown", code=missing))
    code = st.session_state.get(keys.LESSON_CODE)
    if code:
        st.sidebar.caption(t("lesson_following", code=code))
        return
    with st.sidebar.form("join_lesson", border=False, enter_to_submit=True):
        typed = st.text_input(t("lesson_code_input"), max_chars=16, placeholder=t("lesson_code_example"))
        if st.form_submit_button(t("lesson_join")):
            if parse_code(typed) is None or not _follow(typed):
                st.session_state[keys.LESSON_MISSING] = parse_code(typed) or "?"
            st.rerun()


def watch_lesson() -> None:
    """For a student following a code: every few seconds, take the teacher's changes and redraw the page."""
    code = st.session_state.get(keys.LESSON_CODE)
    if not code or is_teacher():
        return

    @st.fragment(run_every=WATCH_SECONDS)
    def check() -> None:
        try:
            lesson = lessons().get(code)
        except (RunStoreError, HomeError):  # busy or broken for a moment: the next check tries again
            return
        if lesson is not None and lesson.version != st.session_state.get(keys.LESSON_VERSION):
            _follow(code)
            st.rerun(scope="app")

    with st.sidebar:
        check()

