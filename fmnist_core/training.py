"""Training as plain functions: one epoch, evaluation, and `fit` wiring them."""
from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import fused, optimizers
from .data import FashionMNIST
from .metrics import EpochMetrics
from .models import BuiltModel, build_model
from .specs import RunSpec, TrainConfig, validate

EVAL_BATCH = 256  # measured against larger batches: cache-sized batches evaluate fastest (BENCHMARKS.md)
# Largest chunk one forward/backward pass takes on a CPU: measured on 2 cores, a 128-image chunk runs about
# twice as fast per image as 256 (the conv1 activations stay in cache). Gradients of the chunks are summed
# before one optimizer step, so the optimizer still sees the spec's batch size.
CPU_MICRO_BATCH = 128


@dataclass
class FitResult:
    model: BuiltModel
    history: list[EpochMetrics]
    cancelled: bool
    device: str


@dataclass
class ResumePoint:
    """Everything `fit` needs to go on after `epoch` as if it had never stopped (weights come from that
    epoch's checkpoint): optimizer moments and step count (the schedule's position), data-order generator."""
    epoch: int
    optimizer_state: dict
    generator_state: torch.Tensor


def pick_device(preference: str = "auto") -> torch.device:
    """cuda, then Apple mps, then cpu; an explicit preference that is not available is an error."""
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but no CUDA GPU is available")
    if preference == "mps" and not has_mps:
        raise RuntimeError("device 'mps' was asked for but Apple MPS is not available")
    return torch.device(preference)


def cpu_quota(cgroup_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPUs a container's quota grants (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`), None when unlimited:
    a container limited to 2 CPUs on a 64-core host must not start 64 threads."""
    try:
        quota, _, period = (cgroup_root / "cpu.max").read_text().partition(" ")
    except OSError:
        try:
            quota = (cgroup_root / "cpu" / "cpu.cfs_quota_us").read_text()
            period = (cgroup_root / "cpu" / "cpu.cfs_period_us").read_text()
        except OSError:
            return None
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no limit
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def usable_cpus() -> int:
    """The cores this process may run on: its affinity, capped by the container's quota."""
    cores = len(os.sched_getaffinity(0))
    quota = cpu_quota()
    return max(1, min(cores, int(quota))) if quota is not None else cores


def other_runnable_tasks(samples: int = 5) -> int | None:
    """How many other tasks want a CPU right now (the kernel's runnable count in /proc/loadavg, less this
    thread; the median of a few samples 10 ms apart), None where there is no /proc."""
    counts = []
    for _ in range(samples):
        try:
            running = Path("/proc/loadavg").read_text().split()[3].partition("/")[0]
        except (OSError, IndexError):
            return None
        counts.append(int(running) - 1)
        time.sleep(0.01)
    return max(0, sorted(counts)[len(counts) // 2])


def threads_for_load(usable: int, others: int | None) -> int:
    """Intra-op threads for an epoch: every usable core on a quiet machine; only the cores others leave free
    (at least one) when they compete. OpenMP threads spin at each barrier waiting for the slowest: a thread that
    shares its core with a busy process holds up all the others (an epoch took 4–5× its quiet time with one busy
    process per core, where a fair share of the CPU gives 2×; BENCHMARKS.md)."""
    if others is None:
        return usable
    return max(1, min(usable, usable - others))


def configure_cpu_threads() -> int:
    """One intra-op thread per core we may use (affinity and quota), no inter-op oversubscription."""
    threads = int(os.environ.get("FMNIST_THREADS", "0")) or usable_cpus()
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


# glibc's malloc hands large freed blocks (every activation and gradient buffer of a step) back to the
# kernel and faults them in again page by page on the next step: millions of page faults per run. Keeping blocks
# up to 32 MiB in the heap removes most of that system time (BENCHMARKS.md, "What each lever gave").
_MALLOPT = {"M_TRIM_THRESHOLD": (-1, 1 << 30), "M_MMAP_THRESHOLD": (-3, 32 << 20)}


def keep_freed_memory_for_reuse() -> bool:
    """Tell glibc's malloc to keep freed tensor buffers for the next step; False where there is no glibc
    (macOS, musl): nothing changes there."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(option, value) == 1 for option, value in _MALLOPT.values())


def step_settings(config: TrainConfig, steps_per_epoch: int) -> Callable[[int], optimizers.StepSettings]:
    """Learning rate (and Adam's beta1) for each optimizer step, counted from 0 over the whole run."""
    if config.schedule == "onecycle":
        total_steps = config.epochs * steps_per_epoch
        return lambda step: optimizers.one_cycle(step, total_steps, config.lr)
    settings = optimizers.constant(config.lr)
    return lambda step: settings


def memory_format_for(spec) -> torch.memory_format:
    """The memory format a model kind trains fastest in on a CPU (channels_last for convolutions)."""
    return torch.channels_last if spec.channels_last else torch.contiguous_format


def as_input(images_uint8: torch.Tensor, memory_format=torch.contiguous_format) -> torch.Tensor:
    """uint8 (N, 28, 28) → float (N, 1, 28, 28) in [0, 1]; done per batch so data is held once as uint8."""
    batch = images_uint8.unsqueeze(1).to(torch.float32).div_(255.0)
    return batch.contiguous(memory_format=memory_format)


def train_one_epoch(
    module: nn.Module,
    optimizer: optimizers.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    order: torch.Tensor,
    loss_fn: nn.Module,
    settings: Callable[[int], optimizers.StepSettings],
    should_stop: Callable[[int], bool] | None = None,
    memory_format=torch.contiguous_format,
    micro_batch: int | None = None,
) -> tuple[float, float] | None:
    """One pass over `images` in `order`; return (mean loss, accuracy), or None when stopped. Before each batch,
    `should_stop(images done so far)` may stop the epoch (and hears how far it got).

    Each optimizer batch is computed in chunks of at most `micro_batch` images with gradients accumulated
    (the same update as one pass over the whole batch, up to float rounding)."""
    module.train()
    # Sums stay on the device so there is no host sync per batch.
    loss_sum = torch.zeros((), device=images.device)
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    # An MLP on the CPU trains each chunk in one C call (fused.DenseStepRunner): the same mean cross-entropy, the
    # same gradients. Any other loss goes through autograd.
    plain_cross_entropy = (isinstance(loss_fn, nn.CrossEntropyLoss) and loss_fn.reduction == "mean"
                           and loss_fn.weight is None and loss_fn.ignore_index < 0)
    train_chunk = getattr(module, "train_chunk", None) if (
        plain_cross_entropy and fused.dense_steppable(module, images, labels)) else None
    smoothing = float(getattr(loss_fn, "label_smoothing", 0.0))
    adam_stepper = getattr(module, "adam_stepper", None) if train_chunk is not None else None
    train_step_adam = adam_stepper(optimizer) if adam_stepper is not None else None
    for start in range(0, len(order), batch_size):
        if should_stop is not None and should_stop(start):
            return None
        index = order[start:start + batch_size]
        optimizer.zero_grad()
        chunks = index.split(micro_batch or batch_size)
        if train_step_adam is not None and len(chunks) == 1:  # the batch and its Adam step in one C call
            train_step_adam(images, labels, index, smoothing, loss_sum, correct, settings(optimizer.steps_taken))
            continue
        for chunk in chunks:
            if train_chunk is not None:
                train_chunk(images, labels, chunk, 1 / len(index), smoothing, loss_sum, correct)
                continue
            # index_select copies whole rows, several times faster than `images[chunk]` (BENCHMARKS.md).
            target = labels.index_select(0, chunk)
            logits = module(as_input(images.index_select(0, chunk), memory_format))
            loss = loss_fn(logits, target)
            (loss if len(chunks) == 1 else loss * (len(chunk) / len(index))).backward()
            loss_sum += loss.detach() * len(chunk)
            correct += (logits.detach().argmax(dim=1) == target).sum()
        optimizer.step(settings(optimizer.steps_taken))
    count = len(order)
    return loss_sum.item() / count, correct.item() / count


@torch.inference_mode()
def evaluate(
    module: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = EVAL_BATCH,
    memory_format=torch.contiguous_format,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `module` on uint8 images (N, 28, 28)."""
    module.eval()
    loss_sum = torch.zeros((), device=images.device)
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    for start in range(0, len(images), batch_size):
        logits = module(as_input(images[start:start + batch_size], memory_format))
        target = labels[start:start + batch_size]
        loss_sum += nn.functional.cross_entropy(logits, target, reduction="sum")
        correct += (logits.argmax(dim=1) == target).sum()
    return loss_sum.item() / len(images), correct.item() / len(images)


def fit(
    run: RunSpec,
    data: FashionMNIST,
    on_epoch: Callable[[EpochMetrics, BuiltModel], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: torch.device | None = None,
    resume: tuple[ResumePoint, dict] | None = None,
    on_resume_point: Callable[[ResumePoint], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> FitResult:
    """Train `run` on the data set; call `on_epoch(metrics, model)` after each epoch and `on_progress(images done
    in this epoch)` before each batch. Stop within one batch when `should_stop()` turns true, keeping the epochs
    already finished.

    `resume` = (resume point, weights of its epoch) goes on from there; `on_resume_point` receives a fresh
    resume point after every epoch, before `on_epoch`."""
    validate(run)
    config = run.train
    device = device or pick_device(config.device)
    if device.type == "cpu":
        keep_freed_memory_for_reuse()
    torch.manual_seed(config.seed)
    model = build_model(run.model)
    memory_format = memory_format_for(run.model)
    module = model.module.to(device=device, memory_format=memory_format)
    train_images, train_labels = data.train_images.to(device), data.train_labels.to(device)
    test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
    optimizer = optimizers.Optimizer(module.parameters(), config.optimizer)
    # Same parameters, same result; on a CPU the first conv stage runs as one C kernel where it can.
    runner = fused.for_cpu(module, run.model, device)
    settings = step_settings(config, steps_per_epoch=-(-len(train_images) // config.batch_size))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    generator = torch.Generator().manual_seed(config.seed)
    first_epoch = 1
    if resume is not None:
        point, weights = resume
        module.load_state_dict(weights)
        optimizer.load_state_dict(point.optimizer_state)
        generator.set_state(point.generator_state)
        first_epoch = point.epoch + 1
    history: list[EpochMetrics] = []

    def between_batches(images_done: int) -> bool:
        if on_progress is not None:
            on_progress(images_done)
        return should_stop is not None and should_stop()

    usable = configure_cpu_threads() if device.type == "cpu" else 0
    for epoch in range(first_epoch, config.epochs + 1):
        if device.type == "cpu" and not os.environ.get("FMNIST_THREADS"):
            torch.set_num_threads(threads_for_load(usable, other_runnable_tasks()))
        started = time.perf_counter()
        if config.shuffle:
            order = torch.randperm(len(train_images), generator=generator).to(device)
        else:
            order = torch.arange(len(train_images), device=device)
        trained = train_one_epoch(
            runner, optimizer, train_images, train_labels, config.batch_size, order, loss_fn,
            settings, between_batches, memory_format, micro_batch=CPU_MICRO_BATCH if device.type == "cpu" else None,
        )
        if trained is None:
            return FitResult(model, history, cancelled=True, device=device.type)
        train_seconds = time.perf_counter() - started
        val_loss, val_acc = evaluate(runner, test_images, test_labels, memory_format=memory_format)
        metrics = EpochMetrics(
            epoch=epoch, train_loss=trained[0], train_acc=trained[1], val_loss=val_loss, val_acc=val_acc,
            epoch_seconds=time.perf_counter() - started,
            images_per_second=len(train_images) / train_seconds,
        )
        history.append(metrics)
        if on_epoch is not None:  # the checkpoint first: a resume state never outlives the epoch it follows
            on_epoch(metrics, model)
        if on_resume_point is not None:
            on_resume_point(ResumePoint(epoch, optimizer.state_dict(), generator.get_state()))
    return FitResult(model, history, cancelled=False, device=device.type)
