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
