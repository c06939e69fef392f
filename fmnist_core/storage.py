"""Where the app writes: one home folder, run folders named by validated run keys, checkpoint files.
No torch here, so finding a cached run stays fast (see checkpoints.py for the file format)."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

RUN_KEY_PATTERN = re.compile(r"^[0-9a-f]{16}$")
# The largest file the app reads back from its home: a resume state holds the weights' Adam moments, twice the
# largest model the limits allow; anything bigger (or not a regular file) was not written by this app.
MAX_STORED_FILE_BYTES = 128 * 2**20
DIGEST_CHUNK = 2**20


class CheckpointError(RuntimeError):
    """A checkpoint file that is missing, truncated, corrupt or not ours."""


class HomeError(RuntimeError):
    """The app's home folder cannot be used. `code` names the problem for translated messages (not_a_folder,
    read_only, disk_full, unusable); `path` is the folder; the message names the problem and the fix."""

    def __init__(self, code: str, path: Path, message: str):
        super().__init__(message)
        self.code = code
        self.path = path


def home_error(error: OSError, path: Path) -> HomeError:
    """The plain-words HomeError for an OSError met while writing under the home folder."""
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        return HomeError("disk_full", path, f"the disk holding {path} is full: free some space there "
                         "(or set FMNIST_HOME to a folder on another disk) and try again")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return HomeError("read_only", path, f"{path} cannot be written: give this user write access to it, "
                         "or set FMNIST_HOME to a folder it can write")
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return HomeError("not_a_folder", path, f"{path} is a file, not a folder: move it away, "
                         "or set FMNIST_HOME to a folder")
    return HomeError("unusable", path, f"{path} cannot be used ({error.strerror or error}): "
                     "set FMNIST_HOME to a folder this user can write")


def app_home() -> Path:
    """FMNIST_HOME when set, else $XDG_DATA_HOME/fmnist-explorer (default ~/.local/share/fmnist-explorer);
    HomeError when it is a file, read-only or otherwise unusable."""
    explicit = os.environ.get("FMNIST_HOME")
    if explicit is not None and not explicit.strip():
        raise HomeError("empty", Path(""), "FMNIST_HOME is set but empty: unset it to use "
                        "~/.local/share/fmnist-explorer, or set it to a folder")
    if explicit:
        home = Path(explicit)
    else:
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(data_home) / "fmnist-explorer"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise home_error(error, home) from None
    if not home.is_dir():
        raise home_error(OSError(errno.ENOTDIR, "not a directory"), home)
    if not os.access(home, os.W_OK | os.X_OK):
        raise home_error(OSError(errno.EACCES, "permission denied"), home)
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


def read_stored_file(path: Path, limit: int = MAX_STORED_FILE_BYTES) -> bytes:
    """The bytes of a regular file under the home folder, measured before they are read: a link to a device,
    a folder or a file larger than `limit` is a CheckpointError, never an endless read."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CheckpointError(f"{path.name}: not a regular file")
            if info.st_size > limit:
                raise CheckpointError(f"{path.name}: {info.st_size / 2**20:.0f} MB, larger than any file this app "
                                      "writes")
            raw = file.read(limit + 1)
    except FileNotFoundError:
        raise CheckpointError(f"{path.name}: no such file") from None
    except OSError as error:
        raise CheckpointError(f"{path.name}: cannot be read ({error.strerror or error})") from None
    if len(raw) > limit:  # it grew while we read it
        raise CheckpointError(f"{path.name}: larger than any file this app writes")
    return raw


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file, or None when it cannot be read (or is no regular file of a plausible size): what a
    checkpoint is checked against."""
    try:
        return hashlib.sha256(read_stored_file(path)).hexdigest()
    except CheckpointError:
        return None
