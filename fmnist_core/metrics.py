"""What one epoch of training measured, and where training stands after it. Plain data: no torch, so the run store
and checkpoints can be read without the trainer."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class EpochMetrics:
    """What one epoch measured: the one declaration of the per-epoch metrics. The run store's columns, model
    files' training curves and the Ray backend's messages follow METRIC_FIELDS, derived from it. A metric added
    later is a field with a default (None: not measured), so that runs, checkpoints and model files saved before
    it stay readable; measure it in training.fit, and chart it in fmnist_ui/charts.py if students should see it.

    `train_acc` and `train_loss` are running averages over the epoch's batches (as Keras reports)."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    epoch_seconds: float
    images_per_second: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> EpochMetrics:
        """The metrics named in `values` (a store row, a model file's curve, a message); names this version does
        not know are ignored, later metrics missing from older values take their defaults. KeyError names a
        required metric that is missing."""
        known = {name: values[name] for name in METRIC_FIELDS if name in values}
        missing = [name for name in REQUIRED_METRICS if known.get(name) is None]
        if missing:
            raise KeyError(missing[0])
        return cls(**{name: value for name, value in known.items() if value is not None})


METRIC_FIELDS = tuple(metric.name for metric in fields(EpochMetrics))
REQUIRED_METRICS = tuple(metric.name for metric in fields(EpochMetrics)
                         if metric.default is MISSING and metric.default_factory is MISSING)
# The training curve of model files written before curves named their columns: these, in this order.
UNNAMED_CURVE_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds",
                        "images_per_second")


@dataclass(frozen=True)
class EarlyStop:
    """Where early stopping would have ended a run: after `stopped_after`, keeping the weights of `kept_epoch`."""

    kept_epoch: int
    stopped_after: int


def early_stopping(history: list[EpochMetrics], patience: int = 3) -> EarlyStop | None:
    """Keras's EarlyStopping(monitor="val_loss", patience, restore_best_weights=True) replayed on a history: the
    lowest validation loss so far is kept once `patience` epochs in a row fail to beat it; None when training never
    stalled that long. Validation loss, not accuracy: accuracy wobbles by a few images from epoch to epoch."""
    best_epoch, best_loss, stalled = None, float("inf"), 0
    for metrics in history:
        if metrics.val_loss < best_loss:
            best_epoch, best_loss, stalled = metrics.epoch, metrics.val_loss, 0
        else:
            stalled += 1
            if stalled >= patience:
                return EarlyStop(best_epoch, metrics.epoch)
    return None


@dataclass
class ResumePoint:
    """Everything `fit` needs to go on after `epoch` as if it had never stopped (weights come from that
    epoch's checkpoint): optimizer moments and step count (the schedule's position), data-order generator."""
    epoch: int
    optimizer_state: dict
    generator_state: Any  # the torch.Generator's state, a uint8 tensor
