"""Train a run or answer it from the cache: the store, checkpoints and `fit` wired together."""
from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import cached_result
from .checkpoints import save_checkpoint, save_resume_point
from .data import FashionMNIST, get_dataset
from .lease import LEASE_SECONDS, Heartbeat
from .metrics import EpochMetrics, ResumePoint
from .models import BuiltModel, build_model
from .runstore import RunRecord, RunStore, RunStoreError
from .saved_runs import RESUMABLE, load_run_checkpoint, resumable_epoch, resume_state  # noqa: F401 - re-exported
from .specs import RunSpec
from .storage import checkpoint_path, discard_checkpoints, resume_path
from .training import fit, pick_device

PROGRESS_SECONDS = 1.0  # how often a running epoch records how many images it has done (pages poll each second)


class RunInProgress(RuntimeError):
    """Another live process (an app process, a command) trains this run right now: follow it, do not train it."""


@dataclass
class RunResult:
    record: RunRecord
    cached: bool


def train_run(
    run: RunSpec,
    store: RunStore,
    home: Path,
    use_cache: bool = True,
    on_epoch: Callable[[EpochMetrics], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    data: FashionMNIST | None = None,
    owner: str | None = None,
    pid: int | None = None,
    resume: bool = False,
    claimed: bool = False,
) -> RunResult:
    """Return the cached run when it is done, else train it, saving a checkpoint after every epoch.
    With `resume`, an unfinished run goes on from its last saved epoch when it can (else it restarts).
    Unless the caller already `claimed` it (a job manager, for its worker), the run is claimed here with a lease of
    its own; RunInProgress when another live process trains it."""
    if use_cache:
        record = cached_result(store, home, run)
        if record is not None:
            return RunResult(record, cached=True)
    device = pick_device(run.train.device)
    start = resume_state(home, store, run.key) if resume else None
    heartbeat = None
    if not claimed:
        heartbeat = Heartbeat(store)
        if not store.claim(run, build_model(run.model).param_count, heartbeat.driver, LEASE_SECONDS, owner=owner,
                           keep_history=start is not None):
            raise RunInProgress(f"run {run.key} is training in another process")
        heartbeat.hold(run.key)
        heartbeat.start()
    try:
        return _train(run, store, home, on_epoch, should_stop, data, pid, start, device)
    finally:
        if heartbeat is not None:
            heartbeat.stop()


def _train(run: RunSpec, store: RunStore, home: Path, on_epoch, should_stop, data, pid, start,
           device) -> RunResult:
    if start is None:
        discard_checkpoints(home, run.key)
    store.mark_running(run.key, device.type, os.getpid() if pid is None else pid)

    def record_resume_point(point: ResumePoint) -> None:
        save_resume_point(resume_path(home, run.key), run.key, point)

    def record_epoch(metrics: EpochMetrics, model: BuiltModel) -> None:
        digest = save_checkpoint(checkpoint_path(home, run.key, metrics.epoch), run, metrics.epoch, model)
        store.add_epoch(run.key, metrics, checkpoint_sha256=digest)
        if on_epoch is not None:
            on_epoch(metrics)

    last_progress = [time.monotonic()]

    def record_progress(images_done: int) -> None:
        # at most once per PROGRESS_SECONDS: a write per batch would make the store the bottleneck
        if images_done and time.monotonic() - last_progress[0] >= PROGRESS_SECONDS:
            last_progress[0] = time.monotonic()
            try:
                store.set_epoch_images(run.key, images_done)
            except RunStoreError:  # the store is busy: progress is a courtesy, the epoch goes on
                pass

    try:
        result = fit(run, data or get_dataset(), on_epoch=record_epoch, should_stop=should_stop, device=device,
                     resume=start, on_resume_point=record_resume_point, on_progress=record_progress)
    except BaseException as error:
        status = "cancelled" if isinstance(error, KeyboardInterrupt) else "failed"
        store.finish(run.key, status, error=_describe(error))
        raise
    store.finish(run.key, "cancelled" if result.cancelled else "done")
    if not result.cancelled:
        resume_path(home, run.key).unlink(missing_ok=True)  # a finished run never resumes
    return RunResult(store.get(run.key), cached=False)


def follow(store: RunStore, key: str, on_epoch: Callable[[EpochMetrics], None] | None = None,
           should_stop: Callable[[], bool] | None = None, poll_seconds: float = 0.5) -> RunRecord | None:
    """Watch a run another process trains until it ends, passing each new epoch to `on_epoch`: what a second
    command asking for the same spec does instead of training it again. None when `should_stop()` turned true."""
    seen = 0
    while True:
        record = store.get(key)
        if record is None:
            return None
        for metrics in record.history[seen:]:
            if on_epoch is not None:
                on_epoch(metrics)
        seen = len(record.history)
        if record.status not in ("queued", "running"):
            return record
        if should_stop is not None and should_stop():
            return None
        time.sleep(poll_seconds)


def _describe(error: BaseException) -> str:
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    return summary[-2000:]
