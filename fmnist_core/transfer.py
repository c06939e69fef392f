"""Take a model home and bring it back: one `.pt` file with spec, weights and training curve.

The file is a checkpoint (same format, plain tensors and numbers, read with `weights_only=True`) plus the
epoch metrics. A file that comes back is untrusted input: its size and zip entries are measured before it is
unpacked, its spec and weight shapes checked before any model is built, its values and curve checked, and its
weights evaluated on the test set: the curve it claims is trusted as a cached answer only when the weights score
what it says. An import never replaces a run that is already on this server."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from .cache import cached_result
from .checkpoints import (
    CHECKPOINT_FORMAT,
    check_archive,
    checkpoint_from_payload,
    read_payload,
    readable_format,
    save_checkpoint,
)
from .data import FashionMNIST, get_dataset
from .evaluation import evaluate, memory_format_for
from .lease import LEASE_SECONDS, driver_name
from .metrics import METRIC_FIELDS, REQUIRED_METRICS, UNNAMED_CURVE_FIELDS, EpochMetrics
from .quota import CHECKPOINT_OVERHEAD, QuotaFull, make_room
from .runstore import ACTIVE, RunRecord, RunStore
from .saved_runs import load_run_checkpoint
from .storage import CheckpointError, checkpoint_path, discard_checkpoints, saved_epochs

MAX_MODEL_BYTES = 32 * 1024 * 1024  # the largest model within the spec limits is about 26 MB
DEVICES = ("cpu", "cuda", "mps")


class ModelFileError(ValueError):
    """An uploaded model file that cannot be used. `code` names the reason for translated messages
    (file_size, not_model, mismatch, values, curve, busy); the message gives the detail."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class ImportResult:
    record: RunRecord
    already_here: bool


def export_run(home: Path, store: RunStore, key: str) -> bytes:
    """The run's last saved checkpoint and its epoch metrics as the bytes of one `.pt` file."""
    record = store.get(key)
    if record is None or not record.history:
        raise CheckpointError(f"run {key} has no finished epoch to export")
    checkpoint = load_run_checkpoint(home, key)
    weights = checkpoint.model.module.state_dict()
    history = [metrics for metrics in record.history if metrics.epoch <= checkpoint.epoch]
    payload = {
        "format": CHECKPOINT_FORMAT, "run": checkpoint.run.canonical_json(), "key": key, "epoch": checkpoint.epoch,
        "state_dict": {name: tensor.detach().contiguous() for name, tensor in weights.items()},
        "history_fields": list(METRIC_FIELDS),  # the curve's columns by name: a file outlives a metric's addition
        "history": [[_curve_value(getattr(metrics, name)) for name in METRIC_FIELDS] for metrics in history],
        "device": record.device or "cpu",
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def import_run(home: Path, store: RunStore, raw: bytes, owner: str | None = None,
               data: FashionMNIST | None = None, quota: int | None = None) -> ImportResult:
    """Validate an uploaded model file, measure its weights on the test set and add it to this server's runs.
    A finished run with the same spec that is already here is kept as it is; any other run of that spec (a
    stopped one with its resume state, an earlier import) is never replaced: the file is refused."""
    if len(raw) > MAX_MODEL_BYTES:
        raise ModelFileError("file_size", f"the file is {len(raw) / 1e6:.1f} MB; a model file is at most "
                             f"{MAX_MODEL_BYTES // 2**20} MB")
    try:
        check_archive(raw, "the file", limit=MAX_MODEL_BYTES)  # before torch.load unpacks anything
        payload = read_payload(raw, "the file")
    except CheckpointError as error:
        raise ModelFileError("not_model", str(error)) from None
    if not readable_format(payload):
        raise ModelFileError("not_model", "the file is not a model saved by this app")
    try:
        checkpoint = checkpoint_from_payload(payload, "the file")
    except CheckpointError as error:
        raise ModelFileError("mismatch", str(error)) from None
    if not all(torch.isfinite(tensor).all() for tensor in checkpoint.model.module.state_dict().values()):
        raise ModelFileError("values", "the file's weights contain NaN or infinite values")
    history = _history(payload.get("history"), payload.get("history_fields", UNNAMED_CURVE_FIELDS), checkpoint.epoch)
    run, key = checkpoint.run, checkpoint.run.key
    current = store.get(key)
    if current is not None and current.status in ACTIVE:
        raise ModelFileError("busy", "this model is training on this server right now; try again when it ends")
    existing = cached_result(store, home, run)
    if existing is not None:
        return ImportResult(existing, already_here=True)
    if current is not None and (current.history or saved_epochs(home, key)):
        raise ModelFileError("exists", f"this server already has a run of this model ({current.status}, "
                             f"{len(current.history)} epoch(s)); open it in Explore or resume it on Build & train")
    try:  # the disk quota (default: FMNIST_DISK_QUOTA_GB), before a byte is written
        make_room(home, store, len(raw) + CHECKPOINT_OVERHEAD, quota, keep={key})
    except QuotaFull as error:
        raise ModelFileError("disk_quota", f"the server's disk quota for models is full ({error})") from None
    measured = _measured_accuracy(checkpoint, data or get_dataset())
    # claimed like any run: a Train of the same spec pressed meanwhile is not overwritten, nor does it overwrite this
    if not store.claim(run, checkpoint.model.param_count, driver_name(), LEASE_SECONDS, owner=owner,
                       origin="imported"):
        raise ModelFileError("busy", "this model is training on this server right now; try again when it ends")
    discard_checkpoints(home, key)  # files of a run with no recorded epoch: nothing anyone can lose
    device = payload.get("device") if payload.get("device") in DEVICES else "cpu"
    try:
        store.mark_running(key, device, pid=0)
        digest = save_checkpoint(checkpoint_path(home, key, checkpoint.epoch), run, checkpoint.epoch,
                                 checkpoint.model)
        for metrics in history:
            store.add_epoch(key, metrics, checkpoint_sha256=digest if metrics.epoch == checkpoint.epoch else None)
        store.mark_imported(key, measured)
        store.finish(key, "done" if checkpoint.epoch == run.train.epochs else "cancelled")
    except BaseException:
        discard_checkpoints(home, key)  # no half-imported run for Explore to list
        store.finish(key, "failed", error="the model file could not be stored")
        raise
    return ImportResult(store.get(key), already_here=False)


def _measured_accuracy(checkpoint, data: FashionMNIST) -> float:
    """Test-set accuracy of the file's weights, measured here: what an import's claim is checked against."""
    memory_format = memory_format_for(checkpoint.run.model)
    module = checkpoint.model.module.to(memory_format=memory_format)
    return evaluate(module, data.test_images, data.test_labels, memory_format=memory_format)[1]


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int of hundreds of digits
        return False


def _curve_value(value):
    return None if value is None else float(value)


def _history(rows, names, last_epoch: int) -> list[EpochMetrics]:
    """Epoch metrics 1..last_epoch from the file's curve, its columns named by `names` (metrics this version does
    not know are ignored; one it added since may be missing): each value a finite number (an optional metric may
    be absent), accuracies in [0, 1]."""
    if (not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names)
            or len(set(names)) != len(names)
            or not set(REQUIRED_METRICS) <= set(names)):
        raise ModelFileError("curve", "the file's training curve does not name its columns")
    if not isinstance(rows, list) or len(rows) != last_epoch:
        raise ModelFileError("curve", f"the file's training curve should list {last_epoch} epochs")
    history = []
    for expected_epoch, row in enumerate(rows, start=1):
        damaged = ModelFileError("curve", f"the file's training curve is damaged at epoch {expected_epoch}")
        if not isinstance(row, list) or len(row) != len(names):
            raise damaged
        values = dict(zip(names, row, strict=True))
        for name in METRIC_FIELDS:
            value = values.get(name)
            if value is None and name not in REQUIRED_METRICS:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
                raise damaged
            values[name] = int(value) if name == "epoch" else float(value)
        try:
            metrics = EpochMetrics.from_values(values)
        except KeyError:
            raise damaged from None
        if (metrics.epoch != expected_epoch or not 0 <= metrics.train_acc <= 1 or not 0 <= metrics.val_acc <= 1
                or metrics.epoch_seconds < 0):
            raise damaged
        history.append(metrics)
    return history
