"""Process-wide resources shared by every session: data set, job manager, loaded checkpoints."""
from __future__ import annotations

import atexit
import uuid

import streamlit as st

from fmnist_core.checkpoints import Checkpoint
from fmnist_core.data import FashionMNIST, get_dataset
from fmnist_core.jobs import JobManager
from fmnist_core.runs import load_run_checkpoint
from fmnist_core.runstore import RunStore
from fmnist_core.storage import app_home


@st.cache_resource(show_spinner=False)
def dataset() -> FashionMNIST:
    return get_dataset()


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    manager = JobManager(app_home())
    atexit.register(manager.shutdown)
    return manager


def session_owner() -> str:
    """This browser session's name on the class board (its runs are highlighted there)."""
    return st.session_state.setdefault("owner", uuid.uuid4().hex[:8])


def store() -> RunStore:
    return job_manager().store


@st.cache_resource(show_spinner=False, max_entries=24)
def checkpoint(key: str, epoch: int) -> Checkpoint:
    """A loaded checkpoint, kept in memory (bounded) so clicks on images answer at once."""
    return load_run_checkpoint(app_home(), key, epoch)
