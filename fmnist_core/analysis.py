"""Where a model goes wrong: predictions on the test set, confusion matrix, per-class accuracy, accuracy with
filters switched off."""
from __future__ import annotations

import torch

from .data import as_input
from .evaluation import evaluate, memory_format_for
from .models import BuiltModel, with_filters_off

NUM_CLASSES = 10


@torch.inference_mode()
def predict_classes(model: BuiltModel, images: torch.Tensor, model_spec, batch_size: int = 256) -> torch.Tensor:
    """Predicted class of each uint8 image (N, 28, 28): (N,) int64."""
    memory_format = memory_format_for(model_spec)
    module = model.module.eval()
    predicted = [module(as_input(images[start:start + batch_size], memory_format)).argmax(dim=1)
                 for start in range(0, len(images), batch_size)]
    return torch.cat(predicted)


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, classes: int = NUM_CLASSES) -> torch.Tensor:
    """counts[true, predicted] as a (classes, classes) int64 tensor."""
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Share of each true class predicted correctly: the diagonal over the row sums."""
    return matrix.diagonal().double() / matrix.sum(dim=1).clamp(min=1).double()


def worst_confusion(matrix: torch.Tensor) -> tuple[int, int]:
    """(true, predicted) of the largest off-diagonal count: the mistake the model makes most."""
    off_diagonal = matrix.clone()
    off_diagonal.fill_diagonal_(-1)
    flat = int(off_diagonal.argmax())
    return divmod(flat, matrix.shape[1])


def accuracy_with_filters_off(model: BuiltModel, model_spec, images: torch.Tensor, labels: torch.Tensor,
                              switched_off: dict) -> float:
    """Accuracy on uint8 images (N, 28, 28) of a copy of `model` whose listed filters (layer name → channels) give
    nothing; the model itself is not changed."""
    memory_format = memory_format_for(model_spec)
    module = with_filters_off(model, switched_off).module.to(memory_format=memory_format)
    return evaluate(module, images, labels, memory_format=memory_format)[1]
