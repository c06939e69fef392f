"""Where the app writes: one home folder, run folders named by validated run keys, checkpoint files.
No torch here, so finding a cached run stays fast (see checkpoints.py for the file format)."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

RUN_KEY_PATTERN = re.compile(r"^[0-9a-f]{16}$")


class CheckpointError(RuntimeError):
    """A checkpoint file that is missing, truncated, corrupt or not ours."""


def app_home() -> Path:
    """FMNIST_HOME when set, else $XDG_DATA_HOME/fmnist-explorer (default ~/.local/share/fmnist-explorer)."""
    explicit = os.environ.get("FMNIST_HOME")
    if explicit:
        home = Path(explicit)
    else:
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(data_home) / "fmnist-explorer"
    home.mkdir(parents=True, exist_ok=True)
    return home


def check_run_key(key: str) -> str:
    """Run keys become folder names: accept only the 16-hex-digit form we generate."""
    if not isinstance(key, str) or not RUN_KEY_PATTERN.match(key):
        raise ValueError(f"not a valid run id: {key!r}")
    return key


def run_folder(home: Path, key: str) -> Path:
    return home / "runs" / check_run_key(key)


def checkpoint_path(home: Path, key: str, epoch: int) -> Path:
    return run_folder(home, key) / f"epoch_{int(epoch):03d}.pt"


def resume_path(home: Path, key: str) -> Path:
    """Optimizer, schedule and data-order state after the last saved epoch: what resuming needs."""
    return run_folder(home, key) / "resume.pt"


def saved_epochs(home: Path, key: str) -> list[int]:
    folder = run_folder(home, key)
    if not folder.is_dir():
        return []
    epochs = []
    for path in folder.glob("epoch_*.pt"):
        match = re.fullmatch(r"epoch_(\d+)\.pt", path.name)
        if match:
            epochs.append(int(match.group(1)))
    return sorted(epochs)


def discard_checkpoints(home: Path, key: str) -> None:
    folder = run_folder(home, key)
    for path in folder.glob("*.pt"):
        path.unlink(missing_ok=True)


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file, or None when it cannot be read: what a checkpoint is checked against."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
