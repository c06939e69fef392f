"""One seed-CNN epoch on a quiet machine and with one busy process per core, in the same run: how training in a
class degrades when it shares the cores with the server and other jobs. Run by hand:

    .venv/bin/python benchmarks/under_load.py [--repeats 2]

Each measurement is a fresh process training one epoch of the Fast CNN preset on the full data set; the busy
processes are plain Python loops at normal priority. Prints seconds per epoch and the ratio to the quiet run of the
same setting."""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EPOCH = """
import dataclasses, json
from fmnist_core.data import get_dataset
from fmnist_core.presets import PRESETS
from fmnist_core.training import fit
run = PRESETS["fast-cnn"]
run = dataclasses.replace(run, train=dataclasses.replace(run.train, epochs=1))
[metrics] = fit(run, get_dataset()).history
print(json.dumps({"seconds": metrics.epoch_seconds}))
"""


def busy() -> None:
    while True:
        pass


def epoch_seconds(env: dict) -> float:
    output = subprocess.run([sys.executable, "-c", EPOCH], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--settings", default="", help="extra env settings to compare, e.g. 'OMP_WAIT_POLICY=ACTIVE'")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    base = dict(os.environ, PYTHONPATH=str(ROOT))
    variants = {"as shipped": {}}
    for setting in filter(None, args.settings.split(",")):
        name, _, value = setting.partition("=")
        variants[setting] = {name: value}
    print(f"{cores} cores; {args.repeats} epochs per cell (median)")
    print("| setting | quiet s/epoch | with one busy process per core | ratio |")
    print("|---|---|---|---|")
    for name, extra in variants.items():
        env = dict(base, **extra)
        quiet = statistics.median(epoch_seconds(env) for _ in range(args.repeats))
        workers = [multiprocessing.Process(target=busy, daemon=True) for _ in range(cores)]
        for worker in workers:
            worker.start()
        try:
            loaded = statistics.median(epoch_seconds(env) for _ in range(args.repeats))
        finally:
            for worker in workers:
                worker.terminate()
        print(f"| {name} | {quiet:.2f} | {loaded:.2f} | {loaded / quiet:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
