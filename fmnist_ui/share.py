"""Links that reopen a view: the spec, run and image travel in the URL's query."""
from __future__ import annotations

import base64
import binascii
import json

import streamlit as st

from fmnist_core.specs import RunSpec, SpecError, run_from_dict


def encode_run(run: RunSpec) -> str:
    """URL-safe text for a spec: base64 of its canonical JSON (no padding)."""
    return base64.urlsafe_b64encode(run.canonical_json().encode()).decode().rstrip("=")


def decode_run(text: str) -> RunSpec:
    """The spec in a link; SpecError when the text is damaged or describes an impossible run."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise SpecError("the link's model description is damaged") from None
    if not isinstance(data, dict):
        raise SpecError("the link's model description is damaged")
    return run_from_dict(data)


def shared_value(name: str) -> str | None:
    """A query value given when this session opened (later reruns rewrite the URL, not this)."""
    opened = st.session_state.setdefault("opened_with", dict(st.query_params))
    return opened.get(name)
