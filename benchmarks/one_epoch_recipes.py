"""Can the seed CNN reach 90 % in one epoch? Run by hand (not part of `make test`).

    .venv/bin/python benchmarks/one_epoch_recipes.py [--batches 32,64,128,256] [--lrs 3e-3,...] [--seeds 0]

The default preset `fast-cnn` trains the notebook's CNN for two epochs; the time-to-90 % target would need one.
This trains that CNN for one epoch on every recipe of the grid (batch size × learning rate × label smoothing,
Adam with the one-cycle schedule as `fast-cnn`, shuffled), each on all 60,000 images and measured on all 10,000
test images, and prints each recipe's test accuracy per seed and its epoch time, best first. Every value comes from
the core's own lists of choices, so a recipe here is one a student could pick."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def numbers(text: str, kind=float) -> list:
    return [kind(part) for part in text.split(",") if part]


def main() -> int:
    from fmnist_core.cpu import configure_cpu_threads
    from fmnist_core.data import load_dataset
    from fmnist_core.presets import PRESETS
    from fmnist_core.specs import BATCH_CHOICES, LABEL_SMOOTHING_CHOICES, LR_CHOICES, RunSpec
    from fmnist_core.training import fit

    base = PRESETS["fast-cnn"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="32,64,128,256")
    parser.add_argument("--lrs", default="3e-3,4e-3,5e-3,6e-3,8e-3,1e-2,3e-2")
    parser.add_argument("--smoothing", default=f"0.0,{base.train.label_smoothing}")
    parser.add_argument("--seeds", default="0")
    arguments = parser.parse_args()
    batches, lrs = numbers(arguments.batches, int), numbers(arguments.lrs)
    smoothing, seeds = numbers(arguments.smoothing), numbers(arguments.seeds, int)
    for value, choices, name in ((batches, BATCH_CHOICES, "batch"), (lrs, LR_CHOICES, "learning rate"),
                                 (smoothing, LABEL_SMOOTHING_CHOICES, "label smoothing")):
        if not set(value) <= set(choices):
            parser.error(f"{name} must be among {choices}")

    configure_cpu_threads()
    data = load_dataset()
    rows = []
    for batch in batches:
        for lr in lrs:
            for smooth in smoothing:
                accuracies, seconds = [], []
                for seed in seeds:
                    train = dataclasses.replace(base.train, epochs=1, batch_size=batch, lr=lr,
                                                label_smoothing=smooth, seed=seed)
                    epoch = fit(RunSpec(base.model, train), data).history[0]
                    accuracies.append(epoch.val_acc)
                    seconds.append(epoch.epoch_seconds)
                rows.append((min(accuracies), batch, lr, smooth, accuracies, min(seconds)))
                print(f"batch {batch:>4}  lr {lr:<6g}  smoothing {smooth:<4g}  test accuracy "
                      f"{' / '.join(f'{a:.2%}' for a in accuracies)}  epoch {min(seconds):.2f} s", flush=True)
    rows.sort(reverse=True)
    print(f"\n{len(rows)} one-epoch recipes of the seed CNN, best first (the lowest seed's accuracy):")
    for worst, batch, lr, smooth, _, seconds in rows[:5]:
        print(f"  {worst:.2%}  batch {batch}, lr {lr:g}, smoothing {smooth:g}  ({seconds:.2f} s)")
    reached = [row for row in rows if row[0] >= 0.90]
    print(f"reach 90 % in one epoch: {len(reached)} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
