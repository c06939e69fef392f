"""Checkpoint files: spec and weights together, written atomically, loaded without unpickling code."""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import BuiltModel, build_model
from .specs import RunSpec, SpecError, run_from_json
from .storage import CheckpointError, file_digest
from .training import ResumePoint

CHECKPOINT_FORMAT = "fmnist-explorer-checkpoint/1"
RESUME_FORMAT = "fmnist-explorer-resume/2"  # 2: own optimizer state, no scheduler


def save_checkpoint(path: Path, run: RunSpec, epoch: int, model: BuiltModel) -> str:
    """Write spec and weights together, atomically (temp file in the same folder, then rename); return the
    file's SHA-256, which the run store keeps to recognise the file as intact later."""
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in model.module.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "run": run.canonical_json(), "key": run.key,
               "epoch": int(epoch), "state_dict": state}
    _write_atomically(path, payload)
    return file_digest(path)


def save_resume_point(path: Path, key: str, point: ResumePoint) -> None:
    """Write what resuming after `point.epoch` needs (tensors moved to the CPU), atomically."""
    payload = {"format": RESUME_FORMAT, "key": key, "epoch": int(point.epoch),
               "optimizer": _to_cpu(point.optimizer_state), "generator": point.generator_state}
    _write_atomically(path, payload)


def load_resume_point(path: Path, key: str) -> ResumePoint:
    """The resume point of run `key`, loaded with `weights_only=True`; CheckpointError when unusable."""
    payload = read_payload(path)
    if payload.get("format") != RESUME_FORMAT or payload.get("key") != key:
        raise CheckpointError(f"{path.name}: not the resume state of run {key}")
    try:
        return ResumePoint(int(payload["epoch"]), dict(payload["optimizer"]), payload["generator"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path.name}: incomplete resume state ({error})") from error


def _to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu")
    if isinstance(value, dict):
        return {name: _to_cpu(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_to_cpu(item) for item in value]
    return value


def read_payload(source: Path | bytes, name: str | None = None) -> dict:
    """The dict inside a file we wrote, from a path or raw bytes, loaded with `weights_only=True`."""
    name = name or (source.name if isinstance(source, Path) else "file")
    if isinstance(source, Path) and not source.is_file():
        raise CheckpointError(f"{name}: no such file")
    try:
        payload = torch.load(source if isinstance(source, Path) else io.BytesIO(source), map_location="cpu",
                             weights_only=True)
    except Exception as error:  # truncated zip, garbage, or a pickle that is not plain weights
        raise CheckpointError(f"{name}: unreadable or unsafe checkpoint ({type(error).__name__})") from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{name}: not an fmnist-explorer file")
    return payload


def _write_atomically(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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
    return checkpoint_from_payload(read_payload(path), path.name, expected_key)


def checkpoint_from_payload(payload: dict, name: str, expected_key: str | None = None) -> Checkpoint:
    """Check a loaded checkpoint dict (format, spec, key, weights against the spec) and build its model."""
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{name}: not an fmnist-explorer checkpoint")
    try:
        run = run_from_json(payload["run"])
        epoch = int(payload["epoch"])
    except (SpecError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{name}: its spec is invalid ({error})") from error
    if payload.get("key") != run.key or (expected_key is not None and run.key != expected_key):
        raise CheckpointError(f"{name}: belongs to another run")
    if not 1 <= epoch <= run.train.epochs:
        raise CheckpointError(f"{name}: epoch {epoch} is not one of the run's {run.train.epochs} epochs")
    model = build_model(run.model)
    try:
        model.module.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{name}: weights do not match the spec ({error})") from error
    model.module.eval()
    return Checkpoint(run=run, epoch=epoch, model=model)
