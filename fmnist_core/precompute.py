"""`python -m fmnist_core precompute`: train the notebook's exercise grid ahead of class (resumable)."""
from __future__ import annotations

import time

from .backends import train_on_backend
from .cache import cached_result, open_store
from .console import StopOnSignal, cluster_backend, progress_line
from .presets import GRID_FILTERS, GRID_LAYERS, GRID_SAME_PADDING, exercise_grid, grid_cnn  # noqa: F401
from .runs import RunInProgress, follow, train_run
from .specs import RunSpec
from .storage import app_home


def run_precompute(recipe: str = "fast-cnn", runs: list[RunSpec] | None = None) -> int:
    """Train every run of the grid (or of `runs`) that is not cached yet, printing progress."""
    with StopOnSignal() as stop:
        return _precompute(runs if runs is not None else exercise_grid(recipe), stop)


def _precompute(runs: list[RunSpec], stop: StopOnSignal) -> int:
    home = app_home()
    store = open_store(home)
    started = time.perf_counter()
    backend = cluster_backend(home, store)
    if backend is not None:
        return _precompute_on_cluster(backend, runs, store, home, stop, started)
    for position, run in enumerate(runs, start=1):
        label = f"[{position}/{len(runs)}] {run.summary()}"
        if cached_result(store, home, run) is not None:
            print(f"{label}: cached", flush=True)
            continue
        show = lambda metrics, total=run.train.epochs: print(f"    {progress_line(metrics, total)}",  # noqa: E731
                                                             flush=True)
        try:
            record = train_run(run, store, home, owner="precompute", should_stop=stop, resume=True,
                               on_epoch=show).record
        except RunInProgress:  # an app process or another command trains it now: wait for it, train nothing
            print(f"{label}: training elsewhere; following it", flush=True)
            record = follow(store, run.key, show, should_stop=stop) or store.get(run.key)
        if stop():
            stop.record_interrupted(store, run.key)
            print(f"{label}: interrupted; run precompute again to go on from the last finished epoch", flush=True)
            return 130
        final = record.final
        accuracy = f", val acc {final.val_acc:.2%}" if final else ""
        print(f"{label}: {record.status}{accuracy}, {record.total_seconds:.0f} s", flush=True)
    print(f"grid ready in {time.perf_counter() - started:.0f} s ({len(runs)} runs) under {home}")
    return 0


def _precompute_on_cluster(backend, runs: list[RunSpec], store, home, stop: StopOnSignal, started: float) -> int:
    """Every run of the grid that is not cached yet goes to the cluster at once; epochs print as they arrive."""
    missing = [run for run in runs if cached_result(store, home, run) is None]
    print(f"{len(runs) - len(missing)} of {len(runs)} runs cached; sending {len(missing)} to the Ray cluster at "
          f"{backend.address}", flush=True)
    labels = {run.key: f"[{position}/{len(runs)}] {run.summary()}" for position, run in enumerate(runs, start=1)}
    records = train_on_backend(backend, missing, store, home, should_stop=stop, owner="precompute",
                               on_epoch=lambda run, metrics: print(
                                   f"{labels[run.key]}: {progress_line(metrics, run.train.epochs)}", flush=True))
    for record in records:
        stop.record_interrupted(store, record.key)
        record = store.get(record.key)
        final = record.final
        accuracy = f", val acc {final.val_acc:.2%}" if final else ""
        print(f"{labels[record.key]}: {record.status}{accuracy}, {record.total_seconds:.0f} s on {record.node}",
              flush=True)
    print(f"grid ready in {time.perf_counter() - started:.0f} s ({len(runs)} runs) under {home}")
    return 130 if stop() else 0
