"""`python -m fmnist_core bench`: figures for BENCHMARKS.md, all measured in one process."""
from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from . import kernels
from .activations import feature_maps
from .cpu import configure_cpu_threads
from .data import FashionMNIST, get_dataset
from .models import build_model
from .presets import PRESETS
from .training import as_input, evaluate, fit, memory_format_for, pick_device

ROUNDS = 2


def _write_idx(path: Path, array: torch.Tensor, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.numpy().astype("uint8").tobytes())


def notebook_model() -> nn.Module:
    """The PyTorch notebook's CNN, written as the notebook writes it (Conv → ReLU → Pool)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def notebook_epoch_seconds(data: FashionMNIST, max_batches: int | None) -> tuple[float, int]:
    """The notebook's loop: torchvision dataset, ToTensor per sample, DataLoader with 2 workers, batch 256."""
    from torchvision import datasets, transforms

    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        _write_idx(raw / "train-images-idx3-ubyte", data.train_images, 2051)
        _write_idx(raw / "train-labels-idx1-ubyte", data.train_labels, 2049)
        _write_idx(raw / "t10k-images-idx3-ubyte", data.test_images, 2051)
        _write_idx(raw / "t10k-labels-idx1-ubyte", data.test_labels, 2049)
        dataset = datasets.FashionMNIST(root, train=True, download=False, transform=transforms.ToTensor())
        loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=False, num_workers=2)
        torch.manual_seed(0)
        model = notebook_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = nn.CrossEntropyLoss()
        images = 0
        started = time.perf_counter()
        for batch_index, (batch, target) in enumerate(loader):
            if max_batches is not None and batch_index >= max_batches:
                break
            optimizer.zero_grad()
            loss = loss_fn(model(batch), target)
            loss.backward()
            optimizer.step()
            images += len(target)
        return time.perf_counter() - started, images


def trainer_epoch_seconds(data: FashionMNIST, preset: str, max_images: int | None) -> tuple[float, float]:
    """One epoch of `preset` with this trainer: (seconds, validation accuracy)."""
    run = PRESETS[preset]
    subset = data if max_images is None else FashionMNIST(
        data.train_images[:max_images], data.train_labels[:max_images], data.test_images, data.test_labels,
        data.source,
    )
    from dataclasses import replace

    run = type(run)(run.model, replace(run.train, epochs=1))
    result = fit(run, subset)
    metrics = result.history[0]
    return len(subset.train_images) / metrics.images_per_second, metrics.val_acc


def without_kernels_epoch_seconds(data: FashionMNIST, preset: str, max_images: int | None) -> float:
    """The same epoch with PyTorch's operators only (FMNIST_NATIVE=0): what the C kernels give."""
    previous = os.environ.get("FMNIST_NATIVE")
    os.environ["FMNIST_NATIVE"] = "0"
    try:
        return trainer_epoch_seconds(data, preset, max_images)[0]
    finally:
        if previous is None:
            del os.environ["FMNIST_NATIVE"]
        else:
            os.environ["FMNIST_NATIVE"] = previous


def _notebook_epoch(data: FashionMNIST, max_batches: int | None) -> float:
    seconds, images = notebook_epoch_seconds(data, max_batches)
    return seconds * 60_000 / images


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# What a cold `train` command does before and between its epochs, each step timed in a fresh interpreter as the
# command meets it: after the training process's own settings (its data files read ahead while torch imports,
# its garbage collection threshold), and inside the interpreter, so that neither its start nor its teardown (which
# the command skips: console.end_process) counts. (label, code run after `import time` and those settings.)
COLD_SETUP = "from fmnist_core.process import start_training_process; start_training_process()\n"
COLD_STEPS = (
    ("interpreter", None),  # the whole of a bare interpreter, start to exit
    ("import torch", "started = time.perf_counter(); import torch; print(time.perf_counter() - started)"),
    ("the app's modules", "import torch; started = time.perf_counter(); "
                          "import fmnist_core.cli, fmnist_core.runs, fmnist_core.training; "
                          "print(time.perf_counter() - started)"),
    ("load the data set, after torch", "import torch; from fmnist_core.data import get_dataset; "
                                       "started = time.perf_counter(); get_dataset(); "
                                       "print(time.perf_counter() - started)"),
    ("load the C kernels", "from fmnist_core.kernels.bindings import SIGNATURES, library; "
                           "started = time.perf_counter(); [library(name) for name in SIGNATURES]; "
                           "print(time.perf_counter() - started)"),
)
COLD_PRESET = "fast-cnn"


def _seconds_of(code: str | None, environment: dict) -> float:
    """The seconds `code` prints, run after COLD_SETUP in a fresh interpreter; without code, the wall seconds of a
    bare interpreter."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "pass" if code is None else "import time\n" + COLD_SETUP + code],
                          capture_output=True, text=True, env=environment, check=True)
    return time.perf_counter() - started if code is None else float(done.stdout.split()[-1])


def cold_command_seconds(rounds: int = 2) -> None:
    """Time to accuracy from a cold command (#26): `train --preset fast-cnn --no-cache --json` in a fresh home,
    whole, and where its seconds go outside the epochs; each figure the fastest of `rounds`."""
    with tempfile.TemporaryDirectory() as home:
        environment = dict(os.environ, FMNIST_HOME=home)
        wholes, runs = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "fmnist_core", "train", "--preset", COLD_PRESET,
                                   "--no-cache", "--json"], capture_output=True, text=True, env=environment,
                                  check=True)
            wholes.append(time.perf_counter() - started)
            runs.append([json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"epoch"')])
        steps = {label: min(_seconds_of(code, environment) for _ in range(rounds)) for label, code in COLD_STEPS}
    best = min(range(rounds), key=wholes.__getitem__)
    epochs = runs[best]
    training = sum(60_000 / epoch["images_per_second"] for epoch in epochs)
    evaluating = sum(epoch["epoch_seconds"] for epoch in epochs) - training
    outside = {**steps, f"training ({len(epochs)} epochs)": training, "evaluating the test set": evaluating}
    outside["the rest (threads, model, run store, checkpoints)"] = wholes[best] - sum(outside.values())
    print(f"\ntime to accuracy from a cold command: `train --preset {COLD_PRESET} --no-cache --json`, fresh home, "
          f"fastest of {rounds}")
    print(f"  whole command {wholes[best]:.2f} s (every round: {' / '.join(f'{w:.2f}' for w in wholes)}), "
          f"test accuracy {epochs[-1]['val_acc']:.2%}")
    for label, seconds in outside.items():
        print(f"  {label:<52}{seconds:>7.2f} s")


def run_bench(quick: bool = False) -> int:
    device = pick_device("auto")
    threads = configure_cpu_threads() if device.type == "cpu" else None
    data = get_dataset()
    print(f"device: {device.type}" + (f" ({threads} threads)" if threads else ""))
    print(f"data: {data.source}; resident after load: {peak_rss_mib():.0f} MiB peak RSS")
    print(f"CPU kernels: {kernels.status() if device.type == 'cpu' else 'not used on this device'}")
    max_batches = 40 if quick else None
    max_images = 40 * 256 if quick else None
    note = " (first 40 batches, scaled to 60,000 images)" if quick else ""

    # This machine's speed drifts by up to ±30 % from minute to minute (shared cores), so the three loops take
    # turns, `ROUNDS` times, and each keeps its fastest round: a ratio is never one loop's good minute against
    # another's bad one.
    scale = 60_000 / (max_images or 60_000)
    loops = {
        "notebook (ToTensor + DataLoader x2)": lambda: _notebook_epoch(data, max_batches),
        "this trainer, PyTorch operators only":
            lambda: without_kernels_epoch_seconds(data, "seed-pytorch-cnn", max_images) * scale,
        "this trainer with the C kernels":
            lambda: trainer_epoch_seconds(data, "seed-pytorch-cnn", max_images)[0] * scale,
    }
    rounds = {name: [] for name in loops}
    for _ in range(1 if quick else ROUNDS):
        for name, measure in loops.items():
            rounds[name].append(measure())
    print(f"\nseed CNN, batch 256, one epoch{note}; fastest of {len(rounds[next(iter(rounds))])} alternating rounds")
    print(f"{'loop':<38}{'s/epoch':>10}{'images/s':>12}   every round")
    for name, seconds in rounds.items():
        best = min(seconds)
        print(f"{name:<38}{best:>10.2f}{60_000 / best:>12,.0f}   {' / '.join(f'{s:.2f}' for s in seconds)}")
    notebook, plain, trainer = (min(seconds) for seconds in rounds.values())
    print(f"speed-up: {notebook / trainer:.2f}x over the notebook loop; the C kernels {plain / trainer:.2f}x")

    print(f"\nMLP presets, one full epoch; fastest of {ROUNDS} alternating rounds")
    print(f"  {'preset':<20}{'C step':>10}{'PyTorch ops':>13}   ratio   every round (C step; PyTorch ops)")
    for preset in ("seed-pytorch-mlp", "seed-keras-mlp"):
        with_kernel, without = [], []
        for _ in range(ROUNDS):
            with_kernel.append(trainer_epoch_seconds(data, preset, None)[0])
            without.append(without_kernels_epoch_seconds(data, preset, None))
        fastest, plain = min(with_kernel), min(without)
        rounds_text = f"{' / '.join(f'{t:.2f}' for t in with_kernel)}; {' / '.join(f'{t:.2f}' for t in without)}"
        print(f"  {preset:<20}{fastest:>8.2f} s{plain:>11.2f} s   {plain / fastest:.2f}x   {rounds_text}")

    spec = PRESETS["seed-pytorch-cnn"].model
    model = build_model(spec)
    memory_format = memory_format_for(spec)
    test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
    module = kernels.accelerated_module(model.module.to(device=device, memory_format=memory_format), spec, device)
    evaluate(module, test_images, test_labels, memory_format=memory_format)
    started = time.perf_counter()
    evaluate(module, test_images, test_labels, memory_format=memory_format)
    eval_ms = (time.perf_counter() - started) * 1000
    one_image = as_input(test_images[:1])
    feature_maps(model, one_image)
    started = time.perf_counter()
    for _ in range(20):
        feature_maps(model, one_image)
    capture_ms = (time.perf_counter() - started) * 1000 / 20
    print(f"\nevaluate 10,000 test images: {eval_ms:.0f} ms; feature maps for one image: {capture_ms:.2f} ms")
    print(f"peak resident memory of this process: {peak_rss_mib():.0f} MiB")
    cold_command_seconds(rounds=1 if quick else ROUNDS)
    return 0
