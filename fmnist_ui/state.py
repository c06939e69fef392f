"""Process-wide resources shared by every session: data set, job manager, loaded checkpoints."""
from __future__ import annotations

import atexit
import gc
import uuid

import streamlit as st

from fmnist_core.checkpoints import Checkpoint
from fmnist_core.classes import ClassStore
from fmnist_core.data import FashionMNIST, get_dataset
from fmnist_core.jobs import JobManager
from fmnist_core.runstore import RunStore
from fmnist_core.saved_runs import load_run_checkpoint
from fmnist_core.storage import app_home


@st.cache_resource(show_spinner=False)
def dataset() -> FashionMNIST:
    return get_dataset()


@st.cache_resource(show_spinner=False)
def test_labels() -> tuple[int, ...]:
    """The test set's labels as Python numbers: a page reads dozens per click, and every tensor read releases and
    re-takes the interpreter lock, which waits behind the other sessions' threads on a busy server."""
    return tuple(dataset().test_labels.tolist())


_heap_settled = False  # a module flag, not st.cache_resource: a browser's "clear cache" must not freeze again


def settle_heap() -> None:
    """Once per server process, when PyTorch, the data set, the job manager and the app's modules are loaded: what
    is alive then leaves the garbage collector's view (gc.freeze). A full collection walks every object it sees
    while every session waits (a few hundred thousand objects, about a seventh of a second here), and under a
    class's clicks one came every few seconds (BENCHMARKS.md). Frozen objects are never collected: this happens
    once, so what it keeps is the start's, not a class's."""
    global _heap_settled
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()  # so that garbage of the start is not kept for good
    gc.freeze()


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


def classes() -> ClassStore:
    """The server's classes and their lessons (in the run store)."""
    return job_manager().classes


@st.cache_resource(show_spinner=False, max_entries=24)
def checkpoint(key: str, epoch: int) -> Checkpoint:
    """A loaded checkpoint, kept in memory (bounded) so clicks on images answer at once."""
    return load_run_checkpoint(app_home(), key, epoch, store=store())  # checked against the store's SHA-256


BROWSER_COOKIE = "fmnist_browser"  # set by page_shell: one name for every tab of a browser


def student_id() -> str:
    """Who the fair queue counts: this browser (a cookie every tab shares), else this session. A student who opens
    thirty tabs is one student."""
    browser = st.context.cookies.get(BROWSER_COOKIE) if st.context.cookies else None
    if isinstance(browser, str) and len(browser) == 32 and all(char in "0123456789abcdef" for char in browser):
        return f"browser:{browser}"
    return f"session:{session_owner()}"


def client_address() -> str:
    """The address the browser connects from: Streamlit's peer address, or, behind a trusted balancer (nginx;
    FMNIST_TRUSTED_PROXIES), the address it forwards in X-Real-IP. "local" for this machine itself."""
    from fmnist_core.teacher import client_address as address_of

    direct = st.context.ip_address  # None for this machine
    return address_of(direct if isinstance(direct, str) and direct else None,
                      (st.context.headers or {}).get("X-Real-IP"))


@st.cache_resource(show_spinner=False)
def guess_limiters() -> dict:
    """Wrong guesses of the teacher code and of class codes, per session and per address, for this process."""
    from fmnist_core.teacher import AttemptLimiter

    return {"teacher": AttemptLimiter(), "class": AttemptLimiter()}


def guess_keys() -> tuple[str, str]:
    return f"session:{session_owner()}", f"address:{client_address()}"


def submit_run(run, resume: bool = False):
    """Train `run` for this session (or answer it from the cache): the Submission, or None when the server
    refuses to queue it now; the refusal is kept for `show_refusal` in the student's language."""
    from fmnist_core.fairqueue import QueueFull
    from fmnist_core.quota import QuotaFull

    from . import keys
    from .i18n import t

    try:
        submission = job_manager().submit(run, owner=session_owner(), resume=resume, student=student_id())
    except QueueFull as full:
        st.session_state[keys.SUBMIT_REFUSED] = t(f"queue_full_{full.reason}", limit=full.limit)
        return None
    except QuotaFull:
        st.session_state[keys.SUBMIT_REFUSED] = t("quota_full_train")
        return None
    st.session_state.pop(keys.SUBMIT_REFUSED, None)
    st.session_state.setdefault(keys.SUBMITTED, {})[run.key] = submission.state
    return submission


def show_refusal(where=st) -> None:
    """Why the last Train was refused (a full queue, a full disk), once."""
    from . import keys

    refusal = st.session_state.pop(keys.SUBMIT_REFUSED, None)
    if refusal:
        where.warning(refusal, icon=":material/hourglass_top:")


def survives_store_errors(function):
    """For a fragment that polls the store: while the store does not answer (a database restarting, a file locked
    for long), say so in the student's language and try again at the next poll, instead of a red traceback."""
    import functools

    from fmnist_core.runstore import RunStoreError

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RunStoreError as error:
            from .i18n import t

            st.warning(t(f"store_error_{error.code}"), icon=":material/cloud_off:")
            return None

    return guarded
