"""Is this spec already trained? Answered from the run store and a file digest, without importing torch,
so a cached run comes back at once (the CLI answers in well under a second)."""
from __future__ import annotations

from pathlib import Path

from .runstore import RunRecord, RunStore
from .specs import RunSpec
from .storage import CheckpointError, app_home, checkpoint_path, discard_checkpoints, file_digest

DATABASE_NAME = "runs.sqlite3"


def open_store(home: Path | None = None) -> RunStore:
    return RunStore((home or app_home()) / DATABASE_NAME)


def cached_result(store: RunStore, home: Path, run: RunSpec) -> RunRecord | None:
    """The finished record for this spec when its final checkpoint is intact (same SHA-256 as when written);
    a damaged or missing one is discarded and the run marked failed, so asking again retrains it."""
    record = store.get(run.key)
    if record is None or record.status != "done":
        return None
    final = run.train.epochs
    path = checkpoint_path(home, run.key, final)
    expected = store.checkpoint_sha256(run.key, final)
    if expected is not None and file_digest(path) == expected:
        return record
    if expected is None and _loads(path, run.key):  # written before digests were kept: check once, remember
        store.set_checkpoint_sha256(run.key, final, file_digest(path))
        return record
    discard_checkpoints(home, run.key)
    store.finish(run.key, "failed", error=f"checkpoint of epoch {final} was missing or damaged and was discarded")
    return None


def _loads(path: Path, key: str) -> bool:
    from .checkpoints import load_checkpoint  # torch: only for stores written before digests existed

    try:
        load_checkpoint(path, expected_key=key)
    except CheckpointError:
        return False
    return True
