"""A run's saved state on disk, checked against the run store: a checkpoint to load (its SHA-256 as recorded), and
where an unfinished run can go on from. What the pages, the job manager and model files need of saved runs,
without the trainer."""
from __future__ import annotations

from pathlib import Path

from .checkpoints import Checkpoint, load_checkpoint, load_resume_point
from .metrics import ResumePoint
from .runstore import RunStore
from .storage import CheckpointError, checkpoint_path, file_digest, resume_path, saved_epochs

RESUMABLE = ("cancelled", "interrupted", "failed")


def resumable_epoch(home: Path, store: RunStore, key: str) -> int | None:
    """The last finished epoch an unfinished run can go on from, or None when it can only restart."""
    start = resume_state(home, store, key)
    return start[0].epoch if start is not None else None


def resume_state(home: Path, store: RunStore, key: str) -> tuple[ResumePoint, dict] | None:
    """(resume point, weights of its epoch) of an unfinished run that can go on, else None: what `fit` takes."""
    record = store.get(key)
    if record is None or record.status not in (*RESUMABLE, "queued") or not record.history:
        return None
    last = record.history[-1].epoch
    if last >= record.run.train.epochs or saved_epochs(home, key)[-1:] != [last]:
        return None
    try:
        point = load_resume_point(resume_path(home, key), key)
        weights = load_checkpoint(checkpoint_path(home, key, last), expected_key=key).model.module.state_dict()
    except CheckpointError:
        return None
    return (point, weights) if point.epoch == last else None


def load_run_checkpoint(home: Path, key: str, epoch: int | None = None, store: RunStore | None = None) -> Checkpoint:
    """The checkpoint of `epoch` (default: the last saved one) of run `key`. With `store`, its bytes must have the
    SHA-256 recorded when it was written: on a home shared by several app processes (NFS, a Kubernetes volume) a
    file another process is still copying, or one damaged on the way, is refused, never half read."""
    epochs = saved_epochs(home, key)
    if not epochs:
        raise CheckpointError(f"run {key} has no saved checkpoints")
    path = checkpoint_path(home, key, epoch or epochs[-1])
    expected = store.checkpoint_sha256(key, epoch or epochs[-1]) if store is not None else None
    if expected is not None and file_digest(path) != expected:
        raise CheckpointError(f"{path.name} of run {key} is not the file that was written (its SHA-256 differs)")
    return load_checkpoint(path, expected_key=key)
