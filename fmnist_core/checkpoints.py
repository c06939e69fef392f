"""Checkpoint files: spec and weights together, written atomically, loaded without unpickling code."""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .metrics import ResumePoint
from .models import BuiltModel, build_model
from .specs import RunSpec, SpecError, run_from_json
from .storage import MAX_STORED_FILE_BYTES, CheckpointError, file_digest, home_error, read_stored_file

# Every checkpoint format this app has written, oldest first: the last is written, every one is read (a run saved
# before a format change still opens in Explore). Raising the format is one more name here and, where the layout
# changed, a branch in checkpoint_from_payload for the older ones.
CHECKPOINT_FORMATS = ("fmnist-explorer-checkpoint/1",)
CHECKPOINT_FORMAT = CHECKPOINT_FORMATS[-1]
RESUME_FORMAT = "fmnist-explorer-resume/2"  # 2: own optimizer state, no scheduler
# torch.save writes its zip entries uncompressed; the pickle of our dicts (spec, keys, a training curve) is a few
# KB. A compressed entry, or declared sizes past these, cannot be ours and would cost memory to unpack.
MAX_PICKLE_BYTES = 2**20
MAX_ENTRIES = 1000  # ours hold a few entries per tensor; a central directory of many more costs memory to list


def save_checkpoint(path: Path, run: RunSpec, epoch: int, model: BuiltModel) -> str:
    """Write spec and weights together, atomically (temp file in the same folder, then rename); return the
    file's SHA-256, which the run store keeps to recognise the file as intact later."""
    return save_weights(path, run, epoch, cpu_weights(model))


def cpu_weights(model: BuiltModel) -> dict:
    """The model's weights as contiguous CPU tensors: what a checkpoint holds (and a cluster node sends back)."""
    return {name: tensor.detach().to("cpu").contiguous() for name, tensor in model.module.state_dict().items()}


def save_weights(path: Path, run: RunSpec, epoch: int, state: dict) -> str:
    """`save_checkpoint` for weights that are already CPU tensors (streamed back from a cluster node)."""
    payload = {"format": CHECKPOINT_FORMAT, "run": run.canonical_json(), "key": run.key,
               "epoch": int(epoch), "state_dict": state}
    _write_atomically(path, payload)
    return file_digest(path)


def save_resume_point(path: Path, key: str, point: ResumePoint) -> None:
    """Write what resuming after `point.epoch` needs (tensors moved to the CPU), atomically."""
    payload = {"format": RESUME_FORMAT, "key": key, "epoch": int(point.epoch),
               "optimizer": _to_cpu(point.optimizer_state), "generator": point.generator_state}
    _write_atomically(path, payload)


def resume_point_on_cpu(point: ResumePoint) -> ResumePoint:
    """The same resume point with every tensor on the CPU: what a cluster node sends back."""
    return ResumePoint(point.epoch, _to_cpu(point.optimizer_state), point.generator_state.to("cpu"))


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


def check_archive(raw: bytes, name: str, limit: int = MAX_STORED_FILE_BYTES) -> None:
    """Measure a torch.save zip before torch.load unpacks it: every entry stored (not compressed), inside the
    file, the pickle small and the declared sizes together within `limit`. CheckpointError otherwise."""
    if raw.count(b"PK\x01\x02") > MAX_ENTRIES:  # central directory headers, counted before any is parsed
        raise CheckpointError(f"{name}: unreadable or unsafe checkpoint (too many entries)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RecursionError):
        raise CheckpointError(f"{name}: unreadable or unsafe checkpoint (not a PyTorch zip file)") from None
    declared = 0
    for entry in entries:
        if (entry.compress_type != zipfile.ZIP_STORED or entry.compress_size != entry.file_size
                or entry.header_offset + entry.file_size > len(raw)):
            raise CheckpointError(f"{name}: unreadable or unsafe checkpoint (compressed or oversized entry)")
        if entry.filename.endswith(".pkl") and entry.file_size > MAX_PICKLE_BYTES:
            raise CheckpointError(f"{name}: unreadable or unsafe checkpoint (oversized description)")
        declared += entry.file_size
    if declared > limit or not entries:
        raise CheckpointError(f"{name}: unreadable or unsafe checkpoint (declared sizes too large)")


def read_payload(source: Path | bytes, name: str | None = None) -> dict:
    """The dict inside a file we wrote, from a path or raw bytes, loaded with `weights_only=True` after its
    size and zip entries were measured."""
    name = name or (source.name if isinstance(source, Path) else "file")
    raw = read_stored_file(source) if isinstance(source, Path) else source
    check_archive(raw, name)
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, garbage, or a pickle that is not plain weights
        raise CheckpointError(f"{name}: unreadable or unsafe checkpoint ({type(error).__name__})") from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{name}: not an fmnist-explorer file")
    return payload


def _write_atomically(path: Path, payload: dict) -> None:
    """Temp file in the same folder, then rename: a full disk or a kill leaves the old file or none, never half
    of one. A full or read-only disk is a HomeError that says so."""
    temp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException as error:
        if temp_name is not None:
            Path(temp_name).unlink(missing_ok=True)
        cause = error if isinstance(error, OSError) else error.__cause__ or error.__context__
        if isinstance(cause, OSError):  # torch.save wraps write errors in a RuntimeError
            raise home_error(cause, path.parent) from error
        raise


@dataclass
class Checkpoint:
    run: RunSpec
    epoch: int
    model: BuiltModel


def load_checkpoint(path: Path, expected_key: str | None = None) -> Checkpoint:
    """Load with `weights_only=True` (no arbitrary unpickling) and rebuild the model from the spec inside."""
    return checkpoint_from_payload(read_payload(path), path.name, expected_key)


def readable_format(payload: dict) -> bool:
    """Whether a loaded file is a checkpoint (or a model file) in one of the formats this app reads."""
    return payload.get("format") in CHECKPOINT_FORMATS


def checkpoint_from_payload(payload: dict, name: str, expected_key: str | None = None) -> Checkpoint:
    """Check a loaded checkpoint dict (format, spec, key, weights against the spec) and build its model."""
    if not readable_format(payload):
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
    state = payload.get("state_dict")
    with torch.device("meta"):  # the spec's layers and shapes, without allocating a single weight
        model = build_model(run.model)
    _check_weights(state, model.module.state_dict(), name)
    try:  # the file's own tensors become the weights: nothing is allocated twice
        model.module.load_state_dict({key: value.contiguous() for key, value in state.items()}, strict=True,
                                     assign=True)
    except (RuntimeError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{name}: weights do not match the spec ({error})") from error
    model.module.eval()
    return Checkpoint(run=run, epoch=epoch, model=model)


def _check_weights(state, expected: dict, name: str) -> None:
    """The file's weights have exactly the names, shapes and dtype the spec's layers need."""
    if not isinstance(state, dict) or set(state) != set(expected):
        raise CheckpointError(f"{name}: weights do not match the spec (other layer names)")
    for key, want in expected.items():
        tensor = state[key]
        if (not isinstance(tensor, torch.Tensor) or tensor.shape != want.shape or tensor.dtype != want.dtype
                or tensor.device.type != "cpu" or tensor.layout != torch.strided):
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise CheckpointError(f"{name}: weights do not match the spec ({key}: {shape}, "
                                  f"expected {tuple(want.shape)})")
