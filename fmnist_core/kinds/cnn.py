"""The CNN: per conv layer Conv(k×k) → ReLU → MaxPool, then Linear(dense) → ReLU → Linear(10). Everything about
the kind is here: its limits, spec, builder, widgets, lesson controls, command-line flags and texts."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar, Literal

from ..checks import IMAGE_SIZE, NUM_CLASSES, SpecError, check_choice, whole, whole_list
from . import Choice, Control, Flag, LayerInfo, ModelKind, PerLayer, Slider, count_params, register

# Limits and choices, inclusive ranges: a value outside them is refused wherever it comes from.
CONV_LAYER_RANGE = (1, 4)
FILTER_CHOICES = (8, 16, 32, 64)
KERNEL_CHOICES = (3, 5, 7)
PADDING_MODES = ("valid", "same")  # no padding, or kernel // 2 zeros so each conv keeps its map's size
POOL_CHOICES = (2,)
DENSE_CHOICES = (16, 32, 64, 128, 256, 512)


def padding_for(mode: str, kernel_size: int) -> int:
    """Zeros around each conv input for a padding mode of PADDING_MODES."""
    return kernel_size // 2 if mode == "same" else 0


def padding_mode(padding: int) -> str:
    return "same" if padding else "valid"


@dataclass(frozen=True)
class CNNSpec:
    conv_channels: tuple[int, ...] = (32, 32)
    kernel_size: int = 3
    padding: int = 0
    pool: int = 2
    dense: int = 128
    kind: Literal["cnn"] = "cnn"
    depth_range: ClassVar[tuple[int, int]] = CONV_LAYER_RANGE
    channels_last: ClassVar[bool] = True  # oneDNN's convolutions and pooling run several times faster in it

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """Filters per conv layer."""
        return self.conv_channels

    @classmethod
    def from_dict(cls, data: dict) -> CNNSpec:
        return cls(
            conv_channels=whole_list("conv layer filters", data["conv_channels"]),
            kernel_size=whole("kernel size", data["kernel_size"]),
            padding=whole("padding", data.get("padding", 0)),
            pool=whole("pool size", data.get("pool", 2)),
            dense=whole("dense width", data["dense"]),
        )

    def check(self) -> None:
        if not self.conv_channels:
            raise SpecError("a CNN needs at least one conv layer")
        if len(self.conv_channels) > CONV_LAYER_RANGE[1]:
            raise SpecError(f"at most {CONV_LAYER_RANGE[1]} conv layers, got {len(self.conv_channels)}")
        for index, channels in enumerate(self.conv_channels, start=1):
            check_choice(f"conv layer {index} filters", channels, FILTER_CHOICES)
        check_choice("kernel size", self.kernel_size, KERNEL_CHOICES)
        allowed_padding = tuple(padding_for(mode, self.kernel_size) for mode in PADDING_MODES)
        check_choice("padding", self.padding, allowed_padding)
        check_choice("pool size", self.pool, POOL_CHOICES)
        check_choice("dense width", self.dense, DENSE_CHOICES)
        size = IMAGE_SIZE
        for index, (conv_size, pool_size) in enumerate(conv_output_sizes(self), start=1):
            if conv_size < 1:
                raise SpecError(
                    f"conv layer {index}: a {self.kernel_size}×{self.kernel_size} kernel does not fit "
                    f"its {size}×{size} input (output would be {conv_size}×{conv_size}); "
                    "remove a layer, use a smaller kernel or add padding"
                )
            if pool_size < 1:
                raise SpecError(
                    f"pool after conv layer {index}: its {conv_size}×{conv_size} map is smaller than "
                    f"the {self.pool}×{self.pool} pool (output would be 0×0); remove a layer or use a smaller kernel"
                )
            size = pool_size

    def summary(self) -> str:
        pad = f" p{self.padding}" if self.padding else ""
        channels = "-".join(str(count) for count in self.conv_channels)
        return f"CNN {channels} k{self.kernel_size}{pad} d{self.dense}"


def conv_output_sizes(spec: CNNSpec) -> list[tuple[int, int]]:
    """Spatial size after each conv and after each pool: [(conv_size, pool_size), ...]."""
    sizes = []
    size = IMAGE_SIZE
    for _ in spec.conv_channels:
        conv_size = size + 2 * spec.padding - spec.kernel_size + 1
        pool_size = conv_size // spec.pool if spec.pool > 1 else conv_size
        sizes.append((conv_size, pool_size))
        size = pool_size
    return sizes


def build(spec: CNNSpec):
    # Each stage is Conv → MaxPool → ReLU. ReLU is monotonic, so this equals the notebook's
    # Conv → ReLU → MaxPool exactly, and ReLU runs on a 4× smaller map (faster on a CPU).
    # The "conv" feature map a student sees is still ReLU(conv output).
    from torch import nn  # here, not at the top: reading a spec (a cached answer, a link) never loads torch

    modules: OrderedDict[str, nn.Module] = OrderedDict()
    layers = []
    in_channels = 1
    for index, (channels, (conv_size, pool_size)) in enumerate(
        zip(spec.conv_channels, conv_output_sizes(spec), strict=True), start=1
    ):
        conv = nn.Conv2d(in_channels, channels, spec.kernel_size, padding=spec.padding)
        modules[f"conv{index}"] = conv
        layers.append(LayerInfo(f"conv{index}", "conv", (channels, conv_size, conv_size), count_params(conv),
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
    layers.append(LayerInfo("dense", "dense", (spec.dense,), count_params(modules["dense"])))
    modules["output"] = nn.Linear(spec.dense, NUM_CLASSES)
    layers.append(LayerInfo("output", "output", (NUM_CLASSES,), count_params(modules["output"])))
    return nn.Sequential(modules), layers


def to_state(spec: CNNSpec) -> dict:
    state = {"conv_layers": len(spec.conv_channels), "kernel_size": spec.kernel_size,
             "padding": padding_mode(spec.padding), "dense": spec.dense}
    state.update({f"filters_{index}": channels for index, channels in enumerate(spec.conv_channels, start=1)})
    return state


def from_state(state) -> CNNSpec:
    channels = tuple(int(state[f"filters_{index}"]) for index in range(1, int(state["conv_layers"]) + 1))
    kernel_size = int(state["kernel_size"])
    return CNNSpec(conv_channels=channels, kernel_size=kernel_size,
                   padding=padding_for(state["padding"], kernel_size), dense=int(state["dense"]))


def changes(spec: CNNSpec, usual: CNNSpec) -> list[tuple[str, dict]]:
    """What a run's label says beyond its filters: only what differs from the usual recipe."""
    said = []
    if spec.kernel_size != usual.kernel_size:
        said.append(("kernel_option", {"value": spec.kernel_size}))
    if spec.padding:
        said.append(("label_same", {}))
    if spec.dense != usual.dense:
        said.append(("label_dense", {"width": spec.dense}))
    return said


KIND = register(ModelKind(
    name="cnn",
    spec=CNNSpec,
    build=build,
    controls=(
        Control("conv_layers", (Slider("conv_layers", "conv_layers", CONV_LAYER_RANGE),)),
        Control("filters", (PerLayer("filters", "filters_layer", FILTER_CHOICES, count="conv_layers",
                                     most=CONV_LAYER_RANGE[1], default=32),)),
        Control("kernel_size", (Choice("kernel_size", "kernel_size", KERNEL_CHOICES, radio=True,
                                       option="kernel_option"),)),
        Control("padding", (Choice("padding", "padding", PADDING_MODES, radio=True, option="padding_{value}",
                                   help="padding_help"),)),
        Control("dense", (Choice("dense", "dense_width", DENSE_CHOICES),)),
    ),
    to_state=to_state,
    from_state=from_state,
    flags=(Flag("conv_channels", whole_numbers=True, help="filters per conv layer, e.g. 32,32"),
           Flag("kernel_size"),
           Flag("padding", help="zeros around each conv input: 0, or kernel size // 2 for 'same'"),
           Flag("dense")),
    marker="circle",
    colors=("#CC79A7", "#E69F00", "#56B4E9", "#000000"),
    texts={
        "kind_cnn": "CNN (convolutional)",
        "label_cnn": "CNN {widths} filters",
        "family_cnn": "CNN, {layers} conv",
        "conv_layers": "Number of conv layers",
        "filters_layer": "Filters in conv layer {index}",
        "kernel_size": "Kernel size",
        "kernel_option": "{value}×{value}",
        "dense_width": "Dense layer width",
        "label_same": "same padding",
        "label_dense": "dense {width}",
        "control_conv_layers": "Number of conv layers",
        "control_filters": "Filters per layer",
        "control_kernel_size": "Kernel size",
        "control_padding": "Padding",
        "control_dense": "Dense layer width",
    },
    changes=changes,
))
