"""What the command-line tools (`train`, `precompute`) share: the progress line they print, stopping on a signal
with the run recorded as interrupted, the cluster they train on when one is configured, and how their process ends."""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import NoReturn

from .backends import RAY_ADDRESS_VARIABLE, select_backend
from .metrics import EpochMetrics


def end_process(code: int) -> NoReturn:
    """Exit with `code` as the interpreter would (exit handlers run, buffered output written), but without its
    teardown of every module and object: with torch loaded that teardown is a sizeable part of a short command's
    wall time, and of the CPU a job's worker holds after its run is recorded (BENCHMARKS.md, #26). Nothing a
    command leaves needs it: the run store commits each write and files are closed where they are written. While
    another thread still runs, the process ends the ordinary way, which waits for it."""
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed: nothing to write
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what the interpreter's own exit reports as status 120
            code = code or 120
    os._exit(code)


def progress_line(metrics: EpochMetrics, total: int) -> str:
    """One epoch as a line with a progress bar: what `train` and `precompute` print."""
    filled = round(20 * metrics.epoch / total)
    bar = "█" * filled + "░" * (20 - filled)
    return (f"epoch {metrics.epoch:>2}/{total} |{bar}| train acc {metrics.train_acc:6.2%} (running avg) "
            f"· val acc {metrics.val_acc:6.2%} · {metrics.epoch_seconds:5.1f} s · "
            f"{metrics.images_per_second:,.0f} img/s")


class StopOnSignal:
    """While in its `with` block, SIGTERM or SIGINT (Ctrl+C) asks training to stop after the current batch; the run
    is then recorded as interrupted (resumable), never left "running" for pages to wait on. On leaving the block
    the previous handlers come back: a library must not change the process's signals for good (every later child
    would inherit them and ignore `terminate()`). Outside the main thread, where Python cannot set handlers, it
    installs none. A reader that stops listening (`train --json | head -1`) stops the run the same way, as SIGPIPE
    would: the command's lines go through `say`."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.received: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._receive)
        return self

    def __exit__(self, *_exception) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _receive(self, signum: int, _frame) -> None:
        self.received.append(signum)

    def __call__(self) -> bool:
        return bool(self.received)

    def say(self, line: str) -> None:
        """Print `line` for the reader; once the reader has gone (a closed pipe), print nothing more and stop."""
        if signal.SIGPIPE in self.received:
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:
            self.received.append(signal.SIGPIPE)
            # what is still buffered goes nowhere, quietly, instead of failing again at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

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
    if backend.where != "cluster":
        print(f"note: {backend.fallback_reason}; training on this machine", file=sys.stderr, flush=True)
        return None
    return backend
