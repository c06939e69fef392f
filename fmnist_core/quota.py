"""Bounded disk: checkpoints and imported models under FMNIST_HOME/runs stay within a quota (limits.py). When a new
run or an upload would not fit, the least recently used runs that no board shows and nothing trains are evicted:
their files go, their rows stay and say so, and asking for them again trains them again. What cannot be made to
fit is refused before anything is written. No torch here."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .limits import disk_quota_bytes
from .runstore import ACTIVE, RunRecord, RunStore
from .storage import check_run_key, run_folder

CHECKPOINT_OVERHEAD = 64 * 2**10  # a checkpoint's spec, metrics and zip headers beside its float32 weights
RESUME_COPIES = 3  # the resume state holds the weights' two Adam moments beside them


class QuotaFull(Exception):
    """Nothing that may be evicted would make room: `needed` and `available` in bytes."""

    def __init__(self, needed: int, available: int):
        super().__init__(f"{needed / 2**20:.0f} MB needed, at most {available / 2**20:.0f} MB can be made free")
        self.needed = needed
        self.available = available


@dataclass(frozen=True)
class DiskUse:
    used: int
    quota: int


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files directly in `folder` (a run folder holds no sub-folders), 0 when it is gone."""
    total = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0
    return total


def run_bytes(home: Path, key: str) -> int:
    return folder_bytes(run_folder(home, key))


def disk_use(home: Path, quota: int | None = None) -> DiskUse:
    """What the runs under `home` take now, against the quota."""
    runs = Path(home) / "runs"
    used = 0
    try:
        with os.scandir(runs) as entries:
            used = sum(folder_bytes(Path(entry.path)) for entry in entries if entry.is_dir(follow_symlinks=False))
    except OSError:
        pass
    return DiskUse(used, disk_quota_bytes() if quota is None else quota)


def estimated_bytes(params: int, epochs: int) -> int:
    """What a run of `params` parameters trained for `epochs` writes: a checkpoint per epoch and a resume state."""
    weights = 4 * params
    return epochs * (weights + CHECKPOINT_OVERHEAD) + RESUME_COPIES * weights + CHECKPOINT_OVERHEAD


def still_to_write(home: Path, record: RunRecord) -> int:
    """What a queued or running run will still write."""
    return max(0, estimated_bytes(record.params, record.run.train.epochs) - run_bytes(home, record.key))


def evictable(home: Path, store: RunStore, keep: set[str]) -> list[tuple[RunRecord, int]]:
    """(run, bytes) that may be evicted, least recently used first: not training or waiting, on no board now,
    not in `keep`, with files on disk."""
    shown = store.keys_on_boards() | set(keep)
    candidates = []
    for record in store.all():
        if record.status in ACTIVE or record.key in shown:
            continue
        size = run_bytes(home, record.key)
        if size:
            candidates.append((record, size))
    candidates.sort(key=lambda pair: pair[0].last_used_at or pair[0].created_at)
    return candidates


def make_room(home: Path, store: RunStore, needed: int, quota: int | None = None,
              keep: set[str] = frozenset()) -> list[str]:
    """Free the disk `needed` more bytes call for (besides what active runs will still write), evicting the least
    recently used runs as little as it takes; the keys evicted. QuotaFull, with nothing evicted, when even every
    evictable run would not make room."""
    use = disk_use(home, quota)
    pending = sum(still_to_write(home, record) for key in store.active_keys()
                  if key not in keep and (record := store.get(key)) is not None)
    missing = use.used + pending + needed - use.quota
    if missing <= 0:
        return []
    candidates = evictable(home, store, keep)
    if sum(size for _, size in candidates) < missing:
        raise QuotaFull(needed, use.quota - use.used - pending + sum(size for _, size in candidates))
    evicted = []
    for record, size in candidates:
        if missing <= 0:
            break
        if evict(home, store, record.key, reason=f"its files were removed to keep the server within its disk quota "
                                                 f"({use.quota / 2**30:.1f} GB); train it again to get it back"):
            missing -= size
            evicted.append(record.key)
    if missing > 0:  # runs resumed meanwhile kept their files
        raise QuotaFull(needed, use.quota - use.used - pending)
    return evicted


def evict(home: Path, store: RunStore, key: str, reason: str) -> bool:
    """Delete a run's files, keeping its row (which says why): first the row, conditionally, so a run resumed
    meanwhile by another app process keeps its files. Whether it was evicted."""
    if not store.mark_evicted(key, reason):
        return False
    shutil.rmtree(run_folder(home, check_run_key(key)), ignore_errors=True)
    return True


def delete_run(home: Path, store: RunStore, key: str) -> None:
    """Forget a run and its files (the teacher deleting an imported model). ValueError while it trains."""
    record = store.get(key)
    if record is not None and record.status in ACTIVE:
        raise ValueError("a run that is training or waiting cannot be deleted")
    shutil.rmtree(run_folder(home, check_run_key(key)), ignore_errors=True)
    store.delete(key)
