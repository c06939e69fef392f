"""A class's runs at once, run by hand (not part of `make test`; benchmarks/gpu_check.sh calls it on a GPU).

    .venv/bin/python benchmarks/class_runs.py --runs 30 --epochs 10 [--compare-cpu 2]

Thirty students press Train on thirty different models within a minute: this submits N different runs (the
exercise grid's CNNs with other seeds, as students' sliders make them) to the app's own job manager, one student
each, on a fresh home, with up to N worker processes at once (`--max-jobs`), and prints the wall time until the
last one is done, each run's test accuracy, and the device, driver and PyTorch version. On a GPU every worker
process trains on it: that is "several runs per card". With `--compare-cpu K` the first K runs are trained again
on the CPU (in this process, on another home) and each accuracy is printed beside the GPU's: another device sums
in another order, so they agree within noise, not to the digit."""
from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def class_of_runs(count: int, epochs: int) -> list:
    """`count` different runs: the grid's CNNs (16/32/64 filters, 1–3 layers, both paddings), each student with
    their own seed, `epochs` epochs on the default recipe."""
    from fmnist_core.models import has_conv_layers
    from fmnist_core.presets import DEFAULT_PRESET, exercise_grid

    cnns = [run for run in exercise_grid(DEFAULT_PRESET) if has_conv_layers(run.model)]
    return [dataclasses.replace(run, train=dataclasses.replace(run.train, epochs=epochs, seed=student))
            for student, run in ((student, cnns[student % len(cnns)]) for student in range(count))]


def machine() -> str:
    import torch

    line = f"torch {torch.__version__}, {os.cpu_count()} CPU cores"
    if torch.cuda.is_available():
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            driver = "unknown"
        line += (f", {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda}, driver {driver}, "
                 f"{torch.cuda.device_count()} device(s))")
    else:
        line += ", no GPU: the runs train on the CPU"
    return line


def accuracy(record) -> float:
    return record.history[-1].val_acc if record and record.history else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="different runs submitted at once (one per student)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--max-jobs", type=int, default=0, help="worker processes at once (default: --runs)")
    parser.add_argument("--compare-cpu", type=int, default=0, help="train the first K runs on the CPU too")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument("--home", type=Path, help="an empty folder for the runs (default: a new scratch folder)")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="fmnist-class-"))
    os.environ["FMNIST_HOME"] = str(home)
    from fmnist_core.jobs import JobManager

    runs = class_of_runs(args.runs, args.epochs)
    print(machine(), flush=True)
    print(f"{len(runs)} different runs of {args.epochs} epochs, up to {args.max_jobs or len(runs)} at once, "
          f"home {home}", flush=True)
    manager = JobManager(home, max_jobs=args.max_jobs or len(runs))
    try:
        started = time.perf_counter()
        for student, run in enumerate(runs):
            manager.submit(run, owner=f"student-{student}")
        keys = {run.key for run in runs}
        while time.perf_counter() - started < args.timeout:
            records = {key: manager.store.get(key) for key in keys}
            if all(record is not None and record.status not in ("queued", "running") for record in
                   records.values()):
                break
            time.sleep(0.5)
        wall = time.perf_counter() - started
    finally:
        manager.shutdown()
    records = [manager.store.get(run.key) for run in runs]
    failed = [run.key for run, record in zip(runs, records, strict=True) if record is None or record.status != "done"]
    devices = sorted({record.device for record in records if record and record.device})
    epoch_seconds = [epoch.epoch_seconds for record in records if record for epoch in record.history]
    print(f"all {len(runs)} runs done in {wall:.1f} s wall," if not failed else
          f"{len(failed)} runs not done after {wall:.1f} s: {failed[:5]}", f"(trained on {', '.join(devices)})",
          flush=True)
    if epoch_seconds:
        print(f"epochs: {len(epoch_seconds)}, {min(epoch_seconds):.2f}–{max(epoch_seconds):.2f} s each while "
              f"sharing the device, {sum(epoch_seconds):.0f} s in all", flush=True)

    cpu = {}
    if args.compare_cpu:
        from fmnist_core.cache import open_store
        from fmnist_core.runs import train_run

        cpu_home = home / "on-cpu"
        for run in runs[:args.compare_cpu]:
            on_cpu = dataclasses.replace(run, train=dataclasses.replace(run.train, device="cpu"))
            cpu[run.key] = accuracy(train_run(on_cpu, open_store(cpu_home), cpu_home).record)
    print("run · test accuracy" + (" · on the CPU" if cpu else ""))
    for run, record in zip(runs, records, strict=True):
        line = f"  {run.summary()} seed {run.train.seed}: {accuracy(record):.2%}"
        if run.key in cpu:
            line += f" · {cpu[run.key]:.2%} (difference {abs(accuracy(record) - cpu[run.key]) * 100:.2f} points)"
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
