"""What the command-line tools (`train`, `precompute`) share: the progress line they print, stopping on a signal
with the run recorded as interrupted, and the cluster they train on when one is configured."""
from __future__ import annotations

import os
import signal
import sys

from .backends import RAY_ADDRESS_VARIABLE, select_backend
from .metrics import EpochMetrics


def progress_line(metrics: EpochMetrics, total: int) -> str:
    """One epoch as a line with a progress bar: what `train` and `precompute` print."""
    filled = round(20 * metrics.epoch / total)
    bar = "█" * filled + "░" * (20 - filled)
    return (f"epoch {metrics.epoch:>2}/{total} |{bar}| train acc {metrics.train_acc:6.2%} (running avg) "
            f"· val acc {metrics.val_acc:6.2%} · {metrics.epoch_seconds:5.1f} s · "
            f"{metrics.images_per_second:,.0f} img/s")


class StopOnSignal:
    """SIGTERM or SIGINT (Ctrl+C) asks training to stop after the current batch; the run is then recorded as
    interrupted (resumable), never left "running" for pages to wait on."""

    def __init__(self):
        self.received: list[int] = []
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda signum, _frame: self.received.append(signum))

    def __call__(self) -> bool:
        return bool(self.received)

    def record_interrupted(self, store, key: str) -> None:
        record = store.get(key)
        if self.received and record is not None and record.status in ("cancelled", "queued", "running"):
            name = signal.Signals(self.received[0]).name
            store.finish(key, "interrupted", error=f"the command stopped on {name}")


def cluster_backend(home, store):
    """The Ray cluster of FMNIST_RAY_ADDRESS when it is set and answers, else None (train here); a cluster that
    does not answer is said in one line on stderr."""
    if not os.environ.get(RAY_ADDRESS_VARIABLE):
        return None
    backend = select_backend(home, store, max_jobs=1)
    if backend.name != "ray":
        print(f"note: {backend.fallback_reason}; training on this machine", file=sys.stderr, flush=True)
        return None
    return backend
