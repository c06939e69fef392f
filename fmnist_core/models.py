"""Build a PyTorch module from a spec (each kind's builder is in its module, fmnist_core/kinds/), and say which of
its layers can be inspected."""
from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .kinds import LayerInfo, count_params, kind_named
from .specs import ModelSpec, validate_model


@dataclass
class BuiltModel:
    module: nn.Module
    layers: list[LayerInfo]

    @property
    def feature_layers(self) -> list[LayerInfo]:
        """Layers whose outputs are per-filter feature maps (conv after ReLU, and pool)."""
        return [layer for layer in self.layers if layer.inspectable]

    @property
    def conv_layers(self) -> list[LayerInfo]:
        return [layer for layer in self.layers if layer.kind == "conv"]

    @property
    def param_count(self) -> int:
        return count_params(self.module)


def build_model(spec: ModelSpec) -> BuiltModel:
    """Validate the spec and build its module; input is (N, 1, 28, 28) floats in [0, 1]."""
    validate_model(spec)
    module, layers = kind_named(spec.kind).build(spec)
    return BuiltModel(module, layers)


@functools.lru_cache(maxsize=1024)
def has_conv_layers(spec: ModelSpec) -> bool:
    """Whether models of `spec` (of any kind) have conv layers whose filters a student can look at; built on the
    meta device, without a weight, once per spec."""
    with torch.device("meta"):
        return bool(build_model(spec).conv_layers)


def conv_kernels(model: BuiltModel, layer_name: str) -> torch.Tensor:
    """The filters of one conv layer: (out_channels, in_channels, k, k)."""
    return model.module.get_submodule(layer_name).weight.detach()


def with_filters_off(model: BuiltModel, filters: Mapping[str, Sequence[int]]) -> BuiltModel:
    """A copy of `model` whose chosen conv filters output zero everywhere (their weights and bias set to 0,
    which is the same as zeroing their feature maps). The original model, shared by every session, is untouched."""
    switched = BuiltModel(copy.deepcopy(model.module), model.layers)
    with torch.no_grad():
        for name, channels in filters.items():
            if channels:
                conv = switched.module.get_submodule(name)
                index = torch.as_tensor(sorted(set(channels)), dtype=torch.long)
                conv.weight[index] = 0
                conv.bias[index] = 0
    return switched
