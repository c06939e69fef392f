"""Where a job trains: worker processes of this server (the default) or a Ray cluster (`FMNIST_RAY_ADDRESS`).

The job manager keeps the queue, the run store and the checkpoints; a backend (the JobBackend interface of
base.py) only starts a run and hands back a JobHandle: the part of `subprocess.Popen` the manager uses. Ray is
imported only when a cluster is asked for (`ray_cluster.py`). A new backend is one module in this folder and one
branch in `select_backend`."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .base import RAY_ADDRESS_VARIABLE, BackendUnavailable, JobBackend, JobHandle
from .local import LocalBackend

log = logging.getLogger(__name__)

def select_backend(home: Path, store, max_jobs: int, address: str | None = None):
    """The Ray cluster at `address` (default: `FMNIST_RAY_ADDRESS`, such as `127.0.0.1:6379` or `auto`) when one is
    asked for and answers, else local workers; a cluster that cannot be reached falls back to local workers and
    says why in `fallback_reason`, never hangs or fails the server."""
    address = address or os.environ.get(RAY_ADDRESS_VARIABLE, "").strip()
    if not address:
        return LocalBackend(home, max_jobs)
    try:
        from .ray_cluster import ClusterUnavailable, RayBackend
    except ImportError as error:  # ray is an optional requirement (requirements-cluster.txt)
        reason = f"{RAY_ADDRESS_VARIABLE} is set but Ray is not installed ({error})"
        log.warning("%s; training on local workers", reason)
        return LocalBackend(home, max_jobs, fallback_reason=reason)
    try:
        return RayBackend(home, store, address)
    except ClusterUnavailable as error:
        log.warning("%s; training on local workers", error)
        return LocalBackend(home, max_jobs, fallback_reason=str(error))


def train_on_backend(backend, runs: list, store, home: Path, on_epoch=None, should_stop=None,
                     owner: str | None = None) -> list:
    """The CLI's way to a cluster: send every run at once (each goes on from its last saved epoch when it can),
    pass each finished epoch to `on_epoch(run, metrics)`, cancel them all when `should_stop()` turns true, and
    return their records once all have ended. Each run is claimed in the store and this process holds its lease
    while the cluster trains it; a run another process trains already is waited for, not sent again."""
    import time

    from ..lease import LEASE_SECONDS, Heartbeat
    from ..models import build_model
    from ..saved_runs import resumable_epoch

    handles, elsewhere = {}, []
    with Heartbeat(store) as heartbeat:
        for run in runs:
            resuming = resumable_epoch(home, store, run.key) is not None
            if not store.claim(run, build_model(run.model).param_count, heartbeat.driver, LEASE_SECONDS,
                               owner=owner, keep_history=resuming):
                elsewhere.append(run.key)
                continue
            heartbeat.hold(run.key)
            report = (lambda metrics, run=run: on_epoch(run, metrics)) if on_epoch else None
            handles[run.key] = backend.launch(run.key, resume=resuming, on_epoch=report)

        def others_active() -> bool:
            return any((record := store.get(key)) is not None and record.status in ("queued", "running")
                       for key in elsewhere)

        stopping = False
        while any(handle.poll() is None for handle in handles.values()) or (not stopping and others_active()):
            if should_stop is not None and should_stop() and not stopping:
                stopping = True
                for handle in handles.values():
                    handle.send_signal()
            time.sleep(0.1)
    return [store.get(key) for key in [*handles, *elsewhere]]


__all__ = ["RAY_ADDRESS_VARIABLE", "BackendUnavailable", "JobBackend", "JobHandle", "LocalBackend", "select_backend",
           "train_on_backend"]
