"""Training as plain functions: one epoch, evaluation, and `fit` wiring them."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import cpu, kernels, optimizers
from .data import FashionMNIST, as_input  # noqa: F401 - as_input is part of the trainer's vocabulary
from .evaluation import evaluate, memory_format_for  # noqa: F401 - the loop's other half, as in pytorch/examples
from .metrics import EpochMetrics, ResumePoint
from .models import BuiltModel, build_model
from .settings import SettingError
from .specs import RunSpec, TrainConfig, validate

# Largest chunk one forward/backward pass through autograd takes on a CPU: measured on 2 cores, a 128-image chunk
# runs about twice as fast per image as 256 (the conv1 activations stay in cache). Gradients of the chunks are
# summed before one optimizer step, so the optimizer still sees the spec's batch size. A step that trains by
# kernel calls may choose its own (`chunk_size`).
CPU_MICRO_BATCH = 128


@dataclass
class FitResult:
    model: BuiltModel
    history: list[EpochMetrics]
    cancelled: bool
    device: str


def pick_device(preference: str = "auto") -> torch.device:
    """cuda, then Apple mps, then cpu; an explicit preference that is not available is an error."""
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise SettingError("device 'cuda' was asked for but no CUDA GPU is available: use --device auto or cpu")
    if preference == "mps" and not has_mps:
        raise SettingError("device 'mps' was asked for but Apple MPS is not available: use --device auto or cpu")
    return torch.device(preference)


def step_settings(config: TrainConfig, steps_per_epoch: int) -> Callable[[int], optimizers.StepSettings]:
    """Learning rate (and Adam's beta1) for each optimizer step, counted from 0 over the whole run."""
    if config.schedule == "onecycle":
        total_steps = config.epochs * steps_per_epoch
        return lambda step: optimizers.one_cycle(step, total_steps, config.lr)
    settings = optimizers.constant(config.lr)
    return lambda step: settings


@dataclass(frozen=True)
class EpochData:
    """What an epoch walks: uint8 images (N, 28, 28) and labels on the training device, their order, the
    optimizer's batch size and the largest chunk one forward/backward pass takes (None: the whole batch).
    Chunks of a batch add up their gradients before its one optimizer step: the same update, up to rounding."""

    images: torch.Tensor
    labels: torch.Tensor
    order: torch.Tensor
    batch_size: int
    chunk_size: int | None = None

    def batches(self):
        """(images done before it, the batch's indices, its chunks) for each optimizer batch, in order."""
        for start in range(0, len(self.order), self.batch_size):
            index = self.order[start:start + self.batch_size]
            yield start, index, index.split(self.chunk_size or self.batch_size)


def train_batch(module, data: EpochData, index, chunks, loss_fn, memory_format, sums) -> None:
    """Forward, loss and backward of one batch by PyTorch's operators, chunk by chunk; adds to `sums`."""
    loss_sum, correct = sums
    for chunk in chunks:
        # index_select copies whole rows, several times faster than `images[chunk]` (BENCHMARKS.md).
        target = data.labels.index_select(0, chunk)
        logits = module(as_input(data.images.index_select(0, chunk), memory_format))
        loss = loss_fn(logits, target)
        (loss if len(chunks) == 1 else loss * (len(chunk) / len(index))).backward()
        loss_sum += loss.detach() * len(chunk)
        correct += (logits.detach().argmax(dim=1) == target).sum()


class PlainStep:
    """One optimizer batch by PyTorch's public operators (zero the gradients, forward and backward chunk by chunk,
    one optimizer step) and evaluation: the training step of pytorch/examples. kernels.accelerate wraps it where
    C kernels apply, with exactly this interface."""

    chunk_size = CPU_MICRO_BATCH  # on a CPU: the largest chunk of a batch one forward/backward pass takes

    def __init__(self, module: nn.Module, optimizer: optimizers.Optimizer, loss_fn: nn.Module,
                 settings: Callable[[int], optimizers.StepSettings], memory_format=torch.contiguous_format):
        self.module, self.optimizer, self.loss_fn = module, optimizer, loss_fn
        self.settings, self.memory_format = settings, memory_format

    def train_batch(self, data: EpochData, index: torch.Tensor, chunks, sums) -> None:
        """Train one batch (`index`, split into `chunks`); add its loss and right answers to `sums`."""
        self.gradients(data, index, chunks, sums)
        self.apply()

    def gradients(self, data: EpochData, index: torch.Tensor, chunks, sums) -> None:
        """The batch's gradients (forward and backward, chunk by chunk), from zero."""
        self.optimizer.zero_grad()
        train_batch(self.module, data, index, chunks, self.loss_fn, self.memory_format, sums)

    def apply(self) -> None:
        """The optimizer step of the gradients there are."""
        self.optimizer.step(self.settings(self.optimizer.steps_taken))

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        return evaluate(self.module, images, labels, memory_format=self.memory_format)


def train_one_epoch(step, data: EpochData, should_stop: Callable[[int], bool] | None = None
                    ) -> tuple[float, float] | None:
    """One pass over `data` by `step` (a PlainStep, or what kernels.accelerate made of it); return (mean loss,
    accuracy), or None when stopped. Before each batch, `should_stop(images done so far)` may stop the epoch."""
    step.module.train()
    sums = (torch.zeros((), device=data.images.device),  # loss, right answers: on the device, no sync per batch
            torch.zeros((), dtype=torch.long, device=data.images.device))
    for done, index, chunks in data.batches():
        if should_stop is not None and should_stop(done):
            return None
        step.train_batch(data, index, chunks, sums)
    count = len(data.order)
    return sums[0].item() / count, sums[1].item() / count


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
    device = device or pick_device(run.train.device)
    if device.type != "cpu":
        return _fit(run, data, on_epoch, should_stop, device, resume, on_resume_point, on_progress, 0)
    with cpu.training_threads() as usable_threads:
        return _fit(run, data, on_epoch, should_stop, device, resume, on_resume_point, on_progress, usable_threads)


def _fit(run, data, on_epoch, should_stop, device, resume, on_resume_point, on_progress,
         usable_threads: int) -> FitResult:
    config = run.train
    torch.manual_seed(config.seed)
    model = build_model(run.model)
    memory_format = memory_format_for(run.model)
    module = model.module.to(device=device, memory_format=memory_format)
    train_images, train_labels = data.train_images.to(device), data.train_labels.to(device)
    test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
    optimizer = optimizers.Optimizer(module.parameters(), config.optimizer)
    settings = step_settings(config, steps_per_epoch=-(-len(train_images) // config.batch_size))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    # the same parameters, the same interface; faster on a CPU where a C kernel applies (it owns its fall-back)
    step = kernels.accelerate(PlainStep(module, optimizer, loss_fn, settings, memory_format), run.model, device)
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

    for epoch in range(first_epoch, config.epochs + 1):
        if device.type == "cpu":
            cpu.adapt_threads(usable_threads)
        started = time.perf_counter()
        order = (torch.randperm(len(train_images), generator=generator) if config.shuffle
                 else torch.arange(len(train_images))).to(device)
        epoch_data = EpochData(train_images, train_labels, order, config.batch_size,
                               step.chunk_size if device.type == "cpu" else None)
        trained = train_one_epoch(step, epoch_data, between_batches)
        if trained is None:
            return FitResult(model, history, cancelled=True, device=device.type)
        train_seconds = time.perf_counter() - started
        val_loss, val_acc = step.evaluate(test_images, test_labels)
        metrics = EpochMetrics(
            epoch=epoch, train_loss=trained[0], train_acc=trained[1], val_loss=val_loss, val_acc=val_acc,
            epoch_seconds=time.perf_counter() - started, images_per_second=len(train_images) / train_seconds,
        )
        history.append(metrics)
        if on_epoch is not None:  # the checkpoint first: a resume state never outlives the epoch it follows
            on_epoch(metrics, model)
        if on_resume_point is not None:
            on_resume_point(ResumePoint(epoch, optimizer.state_dict(), generator.get_state()))
    return FitResult(model, history, cancelled=False, device=device.type)
