"""Teacher mode and lesson links: `?teacher=` opens the teacher's panel; `?lock=` and `?hide=` (comma-separated
control names) lock or hide controls for everyone who opens the link, as TensorFlow Playground allows."""
from __future__ import annotations

import os
from urllib.parse import urlencode

import streamlit as st

from .i18n import t
from .share import shared_value

CONTROLS = ("presets", "model_kind", "conv_layers", "filters", "kernel_size", "padding", "dense", "hidden",
            "epochs", "batch_size", "optimizer", "lr", "advanced")
LESSON_PARAMS = ("lock", "hide")


def _controls(text: str | None) -> list[str]:
    """Known control names from a link's comma-separated list; unknown names are ignored."""
    names = (text or "").split(",")
    return [name for name in CONTROLS if name in names]


def teacher_code_matches(given: str | None, expected: str | None) -> bool:
    """Any non-empty value opens teacher mode unless the server sets FMNIST_TEACHER_CODE; then it must match."""
    if not given or given == "0":
        return False
    return given == expected if expected else True


def apply_lesson_settings() -> None:
    """Read the opening link's lesson settings once per session and keep them in the URL on every run
    (page switches clear the query). The teacher flag is never written back, so a copied address bar
    does not hand teacher mode to students."""
    if "lesson" not in st.session_state:
        st.session_state["lesson"] = {name: _controls(shared_value(name)) for name in LESSON_PARAMS}
        st.session_state["teacher"] = teacher_code_matches(shared_value("teacher"),
                                                           os.environ.get("FMNIST_TEACHER_CODE"))
    for name in LESSON_PARAMS:
        chosen = st.session_state["lesson"][name]
        if chosen:
            st.query_params[name] = ",".join(chosen)
        elif name in st.query_params:
            del st.query_params[name]


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


def teacher_panel() -> None:
    """Sidebar panel, teacher mode only: choose controls to lock or hide, copy the students' link."""
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
        st.caption(t("teacher_link"))
        st.code(student_link(), language=None, wrap_lines=True)
