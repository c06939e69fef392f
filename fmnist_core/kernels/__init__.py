"""Optional C kernels for training on the CPU, behind one door: `accelerate(plain_step, spec, device)` returns the
trainer's training step (training.PlainStep) made faster where a kernel applies and builds here, with the same
interface, or the plain step itself. The step owns its fall-back: any error on the kernel path (a KernelError, a
missing symbol, anything) hands the batch and the rest of the run to PyTorch's operators. Inside the door:

- `accelerated_module(module, spec, device)`: the module with the kernels wired in (else `module` itself);
- `batch_trainer(module, optimizer, images, labels, loss_fn)`: a batch by kernel calls without autograd: an MLP's
  in one C call, a CNN's chunk by chunk (cnn_step.py) where its later layers all run Winograd;
- `fall_back(module, error)`: PyTorch's operators for the rest of the run.

Private entry points (the BLAS `sgemm_` inside libtorch_cpu, PyTorch's fused Adam) are each checked once against
their public counterparts before first use (entry_points.py); a check that fails means the public path.

What the kernels do and why (see c/*.c and BENCHMARKS.md): the CNN's first stage fused (conv over the grey channel
→ max-pool → ReLU: in PyTorch mostly memory traffic), later 3×3 conv layers by Winograd F(4×4, 3×3), the weight
gradient of other later conv layers, a whole MLP chunk (or a CNN's dense layers and loss) in one call.
`FMNIST_NATIVE=0` turns them off.
"""
from __future__ import annotations

import sys

import torch
from torch import nn

from ..kinds.cnn import CNNSpec
from ..kinds.mlp import MLPSpec
from . import build, cnn_step
from .bindings import KernelError, blas_sgemm, library
from .cnn_step import CNNChunkTrainer, chunk_trainable
from .conv import FusedFirstStage, fusable
from .mlp import DenseStepRunner, dense_steppable

__all__ = ["KernelError", "accelerate", "accelerated_module", "batch_trainer", "fall_back", "in_use", "status"]


def accelerate(plain, spec, device: torch.device):
    """The one door: the trainer's plain step (training.PlainStep) made faster where a C kernel applies and builds
    here, with exactly its interface (`module`, `train_batch`, `evaluate`); else `plain` itself. The step owns its
    fall-back: any error on the kernel path hands that batch, and the rest of the run, to PyTorch's operators."""
    module = accelerated_module(plain.module, spec, device)
    if module is plain.module:
        return plain
    return AcceleratedStep(plain, module)


class AcceleratedStep:
    """A PlainStep whose module runs C kernels (a fused first stage, Winograd convolutions, whole MLP chunks)."""

    def __init__(self, plain, module: nn.Module):
        from copy import copy

        self.plain = copy(plain)
        self.plain.module = module  # the same parameters: after a fall-back, PyTorch's operators on them
        self.module = module
        self.kernel = None
        self._kernel_for = None

    @property
    def chunk_size(self) -> int:
        """The largest chunk of a batch one pass takes: the CNN chunk trainer's own where it applies."""
        return cnn_step.CHUNK_SIZE if cnn_step.chunk_shaped(self.module) else self.plain.chunk_size

    def _batch_kernel(self, data):
        if self._kernel_for is not data:  # one per epoch's data: the MLP kernel reads its images directly
            self._kernel_for = data
            self.kernel = batch_trainer(self.module, self.plain.optimizer, data.images, data.labels,
                                        self.plain.loss_fn)
        return self.kernel

    def train_batch(self, data, index, chunks, sums) -> None:
        if not in_use(self.module):
            self.plain.train_batch(data, index, chunks, sums)
            return
        before = tuple(total.clone() for total in sums)  # to undo a batch that failed half way
        optimizer = self.plain.optimizer
        try:
            kernel = self._batch_kernel(data)
            if kernel is None:
                self.plain.gradients(data, index, chunks, sums)  # through the accelerated module
            else:
                optimizer.zero_grad()
                if kernel.train(index, chunks, *sums, self.plain.settings(optimizer.steps_taken)):
                    return  # the kernel also took the optimizer step
        except Exception as error:  # noqa: BLE001 - any failure on the kernel path: PyTorch's operators from now on
            fall_back(self.module, error)
            for total, value in zip(sums, before, strict=True):
                total.copy_(value)
            self.plain.gradients(data, index, chunks, sums)
        self.plain.apply()

    def evaluate(self, images, labels) -> tuple[float, float]:
        try:
            return self.plain.evaluate(images, labels)
        except Exception as error:  # noqa: BLE001 - as in train_batch
            if not in_use(self.module):
                raise
            fall_back(self.module, error)
            return self.plain.evaluate(images, labels)


def accelerated_module(module: nn.Module, spec, device: torch.device) -> nn.Module:
    """`module` with its first stage fused (CNN) or its training chunks in one call (MLP) where a kernel applies
    and builds here, else `module` itself. The returned module evaluates and trains like `module`."""
    if device.type != "cpu":
        return module
    if isinstance(spec, MLPSpec):
        usable = len(spec.hidden) < 8 and blas_sgemm() is not None and library("dense_step") is not None
        return DenseStepRunner(module) if usable else module
    if isinstance(spec, CNNSpec) and fusable(spec) and library("first_stage") is not None:
        return FusedFirstStage(module, spec)
    return module


class BatchTrainer:
    """One optimizer batch of an MLP by the C kernel: its loss, right answers and gradients, and (for a batch of
    one chunk under a fused Adam) its Adam step too."""

    def __init__(self, runner: DenseStepRunner, optimizer, images, labels, label_smoothing: float):
        self.runner, self.images, self.labels, self.smoothing = runner, images, labels, label_smoothing
        self.adam_step = runner.adam_stepper(optimizer)

    def train(self, index: torch.Tensor, chunks: tuple[torch.Tensor, ...], loss_sum, correct, settings) -> bool:
        """Train the batch `index` (split into `chunks`); True when the kernel also took the optimizer step."""
        if self.adam_step is not None and len(chunks) == 1:
            self.adam_step(self.images, self.labels, index, self.smoothing, loss_sum, correct, settings)
            return True
        for chunk in chunks:
            self.runner.train_chunk(self.images, self.labels, chunk, 1 / len(index), self.smoothing, loss_sum,
                                    correct)
        return False


def batch_trainer(module: nn.Module, optimizer, images: torch.Tensor, labels: torch.Tensor,
                  loss_fn: nn.Module) -> BatchTrainer | CNNChunkTrainer | None:
    """A batch trainer by kernel calls when one applies (plain mean cross-entropy, data in CPU memory as the
    kernels read it): the MLP kernel's for an MLP runner, CNNChunkTrainer for a CNN it takes; else None."""
    plain_cross_entropy = (isinstance(loss_fn, nn.CrossEntropyLoss) and loss_fn.reduction == "mean"
                           and loss_fn.weight is None and loss_fn.ignore_index < 0)
    if not plain_cross_entropy:
        return None
    if chunk_trainable(module, images, labels):
        return CNNChunkTrainer(module, images, labels, float(loss_fn.label_smoothing))
    if not (isinstance(module, DenseStepRunner) and module.kernels_on and dense_steppable(module, images, labels)):
        return None
    return BatchTrainer(module, optimizer, images, labels, float(loss_fn.label_smoothing))


def in_use(module: nn.Module) -> bool:
    """Whether `module` may still call a C kernel (one that can fail): accelerated, and not fallen back."""
    return bool(getattr(module, "kernels_on", False))


def fall_back(module: nn.Module, error: Exception) -> None:
    """After `error`, run `module` on PyTorch's operators for the rest of the run (same parameters, same math)."""
    if hasattr(module, "kernels_on"):
        module.kernels_on = False
    print(f"C kernel failed ({error}); going on with PyTorch's operators", file=sys.stderr, flush=True)


def status() -> str:
    """One line for the bench and the logs: are the kernels in use, and if not, why."""
    if library("first_stage") is None:
        return f"PyTorch operators ({build.why_not.get('first_stage', 'kernel not available')})"
    no_sgemm = "PyTorch's CPU library exports no sgemm_ here"
    why_missing = {  # part → None when in use, else why not
        "Winograd 3×3 convolutions": None if library("winograd") else build.why_not.get("winograd"),
        "conv weight gradients": None if library("conv_weight_grad") else build.why_not.get("conv_weight_grad"),
        "MLP steps": (no_sgemm if blas_sgemm() is None
                      else None if library("dense_step") else build.why_not.get("dense_step")),
    }
    used = ["fused first stage"] + [part for part, why in why_missing.items() if why is None]
    missing = [f"no {part}: {why}" for part, why in why_missing.items() if why is not None]
    return f"C kernels ({', '.join(used)})" + (f"; {'; '.join(missing)}" if missing else "")
