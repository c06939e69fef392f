"""Is this spec already trained? Answered from the run store and a file digest, without importing torch,
so a cached run comes back at once (the CLI answers in well under a second)."""
from __future__ import annotations

from pathlib import Path

from .database import SQLITE_NAME, open_database
from .runstore import RunRecord, RunStore
from .specs import RunSpec
from .storage import CheckpointError, app_home, checkpoint_path, file_digest

DATABASE_NAME = SQLITE_NAME


def open_store(home: Path | None = None) -> RunStore:
    """The run store: PostgreSQL when FMNIST_DATABASE_URL names one, else runs.sqlite3 under the home folder."""
    return RunStore(open_database(home or app_home()))


def cached_result(store: RunStore, home: Path, run: RunSpec) -> RunRecord | None:
    """The finished record for this spec when it can answer for it: trained here (or imported with a claim its
    weights were measured to keep) and its final checkpoint intact (same SHA-256 as when written). A lookup:
    it deletes nothing; training the spec again replaces a damaged run."""
    record = store.get(run.key)
    if record is None or record.status != "done" or not record.verified:
        return None
    final = run.train.epochs
    path = checkpoint_path(home, run.key, final)
    expected = store.checkpoint_sha256(run.key, final)
    if expected is not None and file_digest(path) == expected:
        return record
    if expected is None and _loads(path, run.key):  # written before digests were kept: check once, remember
        store.set_checkpoint_sha256(run.key, final, file_digest(path))
        return record
    return None


def _loads(path: Path, key: str) -> bool:
    from .checkpoints import load_checkpoint  # torch: only for stores written before digests existed

    try:
        load_checkpoint(path, expected_key=key)
    except CheckpointError:
        return False
    return True
