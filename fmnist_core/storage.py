"""Where the app writes, and checkpoints: atomic writes, safe loads, corruption detected."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import BuiltModel, build_model
from .specs import RunSpec, SpecError, run_from_json

CHECKPOINT_FORMAT = "fmnist-explorer-checkpoint/1"
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


def save_checkpoint(path: Path, run: RunSpec, epoch: int, model: BuiltModel) -> None:
    """Write spec and weights together, atomically (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in model.module.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "run": run.canonical_json(), "key": run.key,
               "epoch": int(epoch), "state_dict": state}
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@dataclass
class Checkpoint:
    run: RunSpec
    epoch: int
    model: BuiltModel


def load_checkpoint(path: Path, expected_key: str | None = None) -> Checkpoint:
    """Load with `weights_only=True` (no arbitrary unpickling) and rebuild the model from the spec inside."""
    if not path.is_file():
        raise CheckpointError(f"{path.name}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, garbage, or a pickle that is not plain weights
        raise CheckpointError(f"{path.name}: unreadable or unsafe checkpoint ({type(error).__name__})") from error
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path.name}: not an fmnist-explorer checkpoint")
    try:
        run = run_from_json(payload["run"])
    except (SpecError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path.name}: its spec is invalid ({error})") from error
    if payload.get("key") != run.key or (expected_key is not None and run.key != expected_key):
        raise CheckpointError(f"{path.name}: belongs to another run")
    model = build_model(run.model)
    try:
        model.module.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path.name}: weights do not match the spec ({error})") from error
    model.module.eval()
    return Checkpoint(run=run, epoch=int(payload["epoch"]), model=model)


def discard_checkpoints(home: Path, key: str) -> None:
    folder = run_folder(home, key)
    for path in folder.glob("*.pt"):
        path.unlink(missing_ok=True)
