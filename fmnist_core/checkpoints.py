"""Checkpoint files: spec and weights together, written atomically, loaded without unpickling code."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import BuiltModel, build_model
from .specs import RunSpec, SpecError, run_from_json
from .storage import CheckpointError, file_digest

CHECKPOINT_FORMAT = "fmnist-explorer-checkpoint/1"


def save_checkpoint(path: Path, run: RunSpec, epoch: int, model: BuiltModel) -> str:
    """Write spec and weights together, atomically (temp file in the same folder, then rename); return the
    file's SHA-256, which the run store keeps to recognise the file as intact later."""
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
    return file_digest(path)


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
