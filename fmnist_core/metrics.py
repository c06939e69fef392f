"""What one epoch of training measured. Plain data: no torch, so the run store can be read without it."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class EpochMetrics:
    """`train_acc` and `train_loss` are running averages over the epoch's batches (as Keras reports)."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    epoch_seconds: float
    images_per_second: float

    def to_dict(self) -> dict:
        return asdict(self)


def early_stopping_epoch(history: list[EpochMetrics], patience: int = 2) -> int | None:
    """The epoch early stopping would have kept: the best validation accuracy so far, once `patience` epochs
    in a row failed to beat it; None when training never stalled that long."""
    best_epoch, best_accuracy, stalled = None, float("-inf"), 0
    for metrics in history:
        if metrics.val_acc > best_accuracy:
            best_epoch, best_accuracy, stalled = metrics.epoch, metrics.val_acc, 0
        else:
            stalled += 1
            if stalled >= patience:
                return best_epoch
    return None
