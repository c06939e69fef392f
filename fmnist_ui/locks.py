"""Which controls a lesson locks or hides for this student: read by the widgets, set by the lesson (lesson.py) and
chosen by the teacher (teacher.py). A module of its own so that none of those imports another for it."""
from __future__ import annotations

import streamlit as st

from fmnist_core.kinds import MODEL_KINDS

TRAINING_CONTROLS = ("epochs", "batch_size", "optimizer", "lr", "advanced")
LESSON_PARAMS = ("lock", "hide")


def controls() -> tuple[str, ...]:
    """Every control a lesson can lock or hide, in the order the page shows them: the presets, the model type,
    each model kind's own (fmnist_core/kinds/), the training's."""
    return ("presets", "model_kind", *(control.name for kind in MODEL_KINDS.values() for control in kind.controls),
            *TRAINING_CONTROLS)


def known_controls(names) -> list[str]:
    """Known control names, in controls() order; unknown names are ignored."""
    names = names.split(",") if isinstance(names, str) else list(names or ())
    return [name for name in controls() if name in names]


def is_locked(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("lock", ())


def is_hidden(control: str) -> bool:
    return control in st.session_state.get("lesson", {}).get("hide", ())
