"""Feature maps through forward hooks that are always removed."""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

from .models import BuiltModel


@contextmanager
def capture_outputs(module: torch.nn.Module, layer_names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Register a forward hook on each named submodule; yield the dict they fill; remove them on exit."""
    captured: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name in layer_names:
            submodule = module.get_submodule(name)
            handles.append(submodule.register_forward_hook(_store_output(captured, name)))
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def _store_output(captured: dict, name: str):
    def hook(_module, _inputs, output):
        captured[name] = output.detach()
    return hook


# One loaded model serves every session of the app, each in its own thread: hooks registered by one
# session would also fire for another's forward pass, so capture runs one at a time (a few ms each).
_CAPTURE_LOCK = threading.Lock()


@torch.inference_mode()
def feature_maps(model: BuiltModel, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run images (N, 1, 28, 28) through the model; return class probabilities (N, 10) and each
    feature layer's output (N, C, H, W)."""
    layers = model.feature_layers
    with _CAPTURE_LOCK, capture_outputs(model.module, [layer.hook_module for layer in layers]) as captured:
        model.module.eval()
        logits = model.module(images)
    maps = {}
    for layer in layers:
        output = captured[layer.hook_module]
        maps[layer.name] = output.relu() if layer.relu else output
    return logits.softmax(dim=1), maps
