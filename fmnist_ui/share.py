"""Links that reopen a view: the spec, run and image travel in the URL's query."""
from __future__ import annotations

import base64
import binascii

import streamlit as st

from fmnist_core.specs import MAX_SPEC_TEXT, RunSpec, SpecError, run_from_json

from . import keys


def encode_run(run: RunSpec) -> str:
    """URL-safe text for a spec: base64 of its canonical JSON (no padding)."""
    return base64.urlsafe_b64encode(run.canonical_json().encode()).decode().rstrip("=")


def decode_run(text: str) -> RunSpec:
    """The spec in a link; SpecError when the text is damaged or describes an impossible run."""
    if not isinstance(text, str) or len(text) > MAX_SPEC_TEXT:  # measured before anything is decoded
        raise SpecError("the link's model description is damaged")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise SpecError("the link's model description is damaged") from None
    return run_from_json(raw)


def image_index(text: str | None, count: int) -> int | None:
    """A link's test-image number when it is one (ASCII digits, below `count`), else None."""
    if not text or len(text) > 6 or not text.isascii() or not text.isdigit():
        return None
    index = int(text)
    return index if index < count else None


def shared_value(name: str) -> str | None:
    """A query value given when this session opened (later reruns rewrite the URL, not this)."""
    opened = st.session_state.setdefault(keys.OPENED_WITH, dict(st.query_params))
    return opened.get(name)
