"""The MLP, the notebooks' baseline: flatten, then Linear+ReLU per hidden width, then Linear to the 10 classes.
Everything about the kind is here: its limits, spec, builder, widgets, lesson control, command-line flag and texts."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar, Literal

from ..checks import IMAGE_SIZE, NUM_CLASSES, SpecError, check_choice, whole_list
from . import Control, Flag, LayerInfo, ModelKind, PerLayer, Slider, count_params, register

HIDDEN_LAYER_RANGE = (1, 3)
HIDDEN_CHOICES = (16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class MLPSpec:
    hidden: tuple[int, ...] = (64, 128)
    kind: Literal["mlp"] = "mlp"
    depth_range: ClassVar[tuple[int, int]] = HIDDEN_LAYER_RANGE
    channels_last: ClassVar[bool] = False

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """Hidden neurons per layer."""
        return self.hidden

    @classmethod
    def from_dict(cls, data: dict) -> MLPSpec:
        return cls(hidden=whole_list("hidden layer widths", data["hidden"]))

    def check(self) -> None:
        if not self.hidden:
            raise SpecError("an MLP needs at least one hidden layer")
        if len(self.hidden) > HIDDEN_LAYER_RANGE[1]:
            raise SpecError(f"at most {HIDDEN_LAYER_RANGE[1]} hidden layers, got {len(self.hidden)}")
        for index, width in enumerate(self.hidden, start=1):
            check_choice(f"hidden layer {index} width", width, HIDDEN_CHOICES)

    def summary(self) -> str:
        return "MLP " + "-".join(str(width) for width in self.hidden)


def build(spec: MLPSpec):
    from torch import nn  # here, not at the top: reading a spec never loads torch

    modules: OrderedDict[str, nn.Module] = OrderedDict()
    flat = IMAGE_SIZE * IMAGE_SIZE
    modules["flatten"] = nn.Flatten()
    layers = [LayerInfo("flatten", "flatten", (flat,), 0)]
    in_features = flat
    for index, width in enumerate(spec.hidden, start=1):
        block = nn.Sequential(nn.Linear(in_features, width), nn.ReLU())
        modules[f"dense{index}"] = block
        layers.append(LayerInfo(f"dense{index}", "dense", (width,), count_params(block)))
        in_features = width
    modules["output"] = nn.Linear(in_features, NUM_CLASSES)
    layers.append(LayerInfo("output", "output", (NUM_CLASSES,), count_params(modules["output"])))
    return nn.Sequential(modules), layers


def to_state(spec: MLPSpec) -> dict:
    state = {"hidden_layers": len(spec.hidden)}
    state.update({f"hidden_{index}": width for index, width in enumerate(spec.hidden, start=1)})
    return state


def from_state(state) -> MLPSpec:
    return MLPSpec(hidden=tuple(int(state[f"hidden_{index}"]) for index in range(1, int(state["hidden_layers"]) + 1)))


KIND = register(ModelKind(
    name="mlp",
    spec=MLPSpec,
    build=build,
    controls=(Control("hidden", (Slider("hidden_layers", "hidden_layers", HIDDEN_LAYER_RANGE),
                                 PerLayer("hidden", "hidden_width", HIDDEN_CHOICES, count="hidden_layers",
                                          most=HIDDEN_LAYER_RANGE[1], default=128))),),
    to_state=to_state,
    from_state=from_state,
    flags=(Flag("hidden", whole_numbers=True, help="neurons per hidden layer, e.g. 64,128"),),
    marker="square",
    colors=("#0072B2", "#D55E00", "#009E73"),
    texts={
        "kind_mlp": "MLP (dense only)",
        "label_mlp": "MLP {widths} neurons",
        "family_mlp": "MLP, {layers} hidden",
        "hidden_layers": "Number of hidden layers",
        "hidden_width": "Neurons in hidden layer {index}",
        "control_hidden": "MLP hidden layers",
    },
))
