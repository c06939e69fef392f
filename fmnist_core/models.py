"""Build a PyTorch module from a spec, and say which of its layers can be inspected."""
from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .specs import IMAGE_SIZE, NUM_CLASSES, CNNSpec, MLPSpec, ModelSpec, conv_output_sizes, validate_model

FEATURE_KINDS = ("conv", "pool")


@dataclass(frozen=True)
class LayerInfo:
    """One row of the architecture table. `output_shape` excludes the batch dimension.

    A feature layer's map is the output of submodule `hook_module`, passed through ReLU when `relu`."""

    name: str
    kind: str  # conv | pool | flatten | dense | output
    output_shape: tuple[int, ...]
    params: int
    hook_module: str = ""
    relu: bool = False

    @property
    def inspectable(self) -> bool:
        return self.kind in FEATURE_KINDS


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


def count_params(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def _params(module: nn.Module) -> int:
    return count_params(module)


def _build_cnn(spec: CNNSpec) -> tuple[nn.Sequential, list[LayerInfo]]:
    # Each stage is Conv → MaxPool → ReLU. ReLU is monotonic, so this equals the notebook's
    # Conv → ReLU → MaxPool exactly, and ReLU runs on a 4× smaller map (faster on a CPU).
    # The "conv" feature map a student sees is still ReLU(conv output).
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    layers = []
    in_channels = 1
    for index, (channels, (conv_size, pool_size)) in enumerate(
        zip(spec.conv_channels, conv_output_sizes(spec), strict=True), start=1
    ):
        conv = nn.Conv2d(in_channels, channels, spec.kernel_size, padding=spec.padding)
        modules[f"conv{index}"] = conv
        layers.append(LayerInfo(f"conv{index}", "conv", (channels, conv_size, conv_size), _params(conv),
                                hook_module=f"conv{index}", relu=True))
        if spec.pool > 1:
            modules[f"pool{index}"] = nn.MaxPool2d(spec.pool)
        modules[f"relu{index}"] = nn.ReLU()
        if spec.pool > 1:
            layers.append(LayerInfo(f"pool{index}", "pool", (channels, pool_size, pool_size), 0,
                                    hook_module=f"relu{index}"))
        in_channels = channels
    final_size = conv_output_sizes(spec)[-1][1]
    flat = in_channels * final_size * final_size
    modules["flatten"] = nn.Flatten()
    layers.append(LayerInfo("flatten", "flatten", (flat,), 0))
    modules["dense"] = nn.Sequential(nn.Linear(flat, spec.dense), nn.ReLU())
    layers.append(LayerInfo("dense", "dense", (spec.dense,), _params(modules["dense"])))
    modules["output"] = nn.Linear(spec.dense, NUM_CLASSES)
    layers.append(LayerInfo("output", "output", (NUM_CLASSES,), _params(modules["output"])))
    return nn.Sequential(modules), layers


def _build_mlp(spec: MLPSpec) -> tuple[nn.Sequential, list[LayerInfo]]:
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    flat = IMAGE_SIZE * IMAGE_SIZE
    modules["flatten"] = nn.Flatten()
    layers = [LayerInfo("flatten", "flatten", (flat,), 0)]
    in_features = flat
    for index, width in enumerate(spec.hidden, start=1):
        block = nn.Sequential(nn.Linear(in_features, width), nn.ReLU())
        modules[f"dense{index}"] = block
        layers.append(LayerInfo(f"dense{index}", "dense", (width,), _params(block)))
        in_features = width
    modules["output"] = nn.Linear(in_features, NUM_CLASSES)
    layers.append(LayerInfo("output", "output", (NUM_CLASSES,), _params(modules["output"])))
    return nn.Sequential(modules), layers


# How each registered model kind (specs.MODEL_KINDS) becomes a module and its inspectable layers.
BUILDERS = {"cnn": _build_cnn, "mlp": _build_mlp}


def build_model(spec: ModelSpec) -> BuiltModel:
    """Validate the spec and build its module; input is (N, 1, 28, 28) floats in [0, 1]."""
    validate_model(spec)
    try:
        builder = BUILDERS[spec.kind]
    except KeyError:
        raise ValueError(f"model kind {spec.kind!r} has a spec but no builder in models.BUILDERS") from None
    module, layers = builder(spec)
    return BuiltModel(module, layers)


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
