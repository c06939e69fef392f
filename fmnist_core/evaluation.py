"""Evaluating a model on test images: what pages do (Explore, imports of model files) and what the trainer does after
each epoch. A module of its own so that pages never load the trainer, its optimizers or its C kernels."""
from __future__ import annotations

import torch
from torch import nn

from .data import as_input

EVAL_BATCH = 256  # measured against larger batches: cache-sized batches evaluate fastest (BENCHMARKS.md)


def memory_format_for(spec) -> torch.memory_format:
    """The memory format a model kind trains fastest in on a CPU (channels_last for convolutions)."""
    return torch.channels_last if spec.channels_last else torch.contiguous_format


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
