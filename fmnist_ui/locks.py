"""Which controls a lesson locks or hides for this student: read by the widgets, set by the lesson (lesson.py) and
chosen by the teacher (teacher.py). A module of its own so that none of those imports another for it."""
from __future__ import annotations

import streamlit as st

CONTROLS = ("presets", "model_kind", "conv_layers", "filters", "kernel_size", "padding", "dense", "hidden",
            "epochs", "batch_size", "optimizer", "lr", "advanced")
LESSON_PARAMS = ("lock", "hide")


def known_controls(names) -> list[str]:
    """Known control names, in CONTROLS order; unknown names are ignored."""
    names = names.split(",") if isinstance(names, str) else list(names or ())
    return [name for name in CONTROLS if name in names]


def is_locked(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("lock", ())


def is_hidden(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("hide", ())
