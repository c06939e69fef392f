"""Train a run or answer it from the cache: the store, checkpoints and `fit` wired together."""
from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import cached_result
from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .data import FashionMNIST, get_dataset
from .metrics import EpochMetrics
from .models import BuiltModel, build_model
from .runstore import RunRecord, RunStore
from .specs import RunSpec
from .storage import CheckpointError, checkpoint_path, discard_checkpoints, saved_epochs
from .training import fit, pick_device


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
    pid: int = 0,
) -> RunResult:
    """Return the cached run when it is done, else train it, saving a checkpoint after every epoch."""
    if use_cache:
        record = cached_result(store, home, run)
        if record is not None:
            return RunResult(record, cached=True)
    device = pick_device(run.train.device)
    existing = store.get(run.key)
    if existing is None or existing.status != "queued":
        store.queue(run, build_model(run.model).param_count, owner=owner)
    discard_checkpoints(home, run.key)
    store.mark_running(run.key, device.type, pid)

    def record_epoch(metrics: EpochMetrics, model: BuiltModel) -> None:
        digest = save_checkpoint(checkpoint_path(home, run.key, metrics.epoch), run, metrics.epoch, model)
        store.add_epoch(run.key, metrics, checkpoint_sha256=digest)
        if on_epoch is not None:
            on_epoch(metrics)

    try:
        result = fit(run, data or get_dataset(), on_epoch=record_epoch, should_stop=should_stop, device=device)
    except BaseException as error:
        status = "cancelled" if isinstance(error, KeyboardInterrupt) else "failed"
        store.finish(run.key, status, error=_describe(error))
        raise
    store.finish(run.key, "cancelled" if result.cancelled else "done")
    return RunResult(store.get(run.key), cached=False)


def load_run_checkpoint(home: Path, key: str, epoch: int | None = None) -> Checkpoint:
    """The checkpoint of `epoch` (default: the last saved one) of run `key`."""
    epochs = saved_epochs(home, key)
    if not epochs:
        raise CheckpointError(f"run {key} has no saved checkpoints")
    return load_checkpoint(checkpoint_path(home, key, epoch or epochs[-1]), expected_key=key)


def _describe(error: BaseException) -> str:
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    return summary[-2000:]
