"""Declarative descriptions of a run: the model spec plus its training config.

Widgets build these, the core consumes them, checkpoints store them and the cache
keys on the hash of their canonical JSON. This module is also the one place for every limit and every list
of choices: the widgets, link decoding, model-file import, charts and the CLI all read them from here.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

IMAGE_SIZE = 28
NUM_CLASSES = 10

# Limits and choices. Ranges are inclusive (low, high). A value outside them is refused wherever it comes from,
# so whatever the core accepts a page can show (and a model file can hold at most a few tens of MB of weights).
CONV_LAYER_RANGE = (1, 4)
FILTER_CHOICES = (8, 16, 32, 64)
KERNEL_CHOICES = (3, 5, 7)
PADDING_MODES = ("valid", "same")  # no padding, or kernel // 2 zeros so each conv keeps its map's size
POOL_CHOICES = (2,)
DENSE_CHOICES = (16, 32, 64, 128, 256, 512)
HIDDEN_LAYER_RANGE = (1, 3)
HIDDEN_CHOICES = (16, 32, 64, 128, 256, 512)
EPOCH_RANGE = (1, 30)
BATCH_CHOICES = (32, 64, 128, 256, 512, 1024)
LR_CHOICES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 8e-3, 1e-2, 3e-2, 1e-1)
LABEL_SMOOTHING_CHOICES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
SEED_RANGE = (0, 2**31 - 1)
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_SPEC_TEXT = 4096  # characters of spec JSON (or of a link's encoded spec): a real one is about 300


def padding_for(mode: str, kernel_size: int) -> int:
    """Zeros around each conv input for a padding mode of PADDING_MODES."""
    return kernel_size // 2 if mode == "same" else 0


def padding_mode(padding: int) -> str:
    return "same" if padding else "valid"


def snap_label_smoothing(value: float) -> float:
    """A slider's float (0.15000000000000002) as the choice it means."""
    return min(LABEL_SMOOTHING_CHOICES, key=lambda choice: abs(choice - value))


class SpecError(ValueError):
    """A spec or config that cannot be built or trained; the message says why."""


# The registry of model kinds: a kind's spec class, by its name. A new kind is one more class decorated with
# @model_kind(name) here (with from_dict, check, summary and layer_widths) and its builder in models.py (BUILDERS);
# every other place asks the spec, and an unregistered kind is an error that names it.
MODEL_KINDS: dict[str, type] = {}


def model_kind(name: str):
    """Class decorator: register a model spec class under `name` (its `kind` field's value)."""
    def register(spec_class: type) -> type:
        if name in MODEL_KINDS:
            raise ValueError(f"model kind {name!r} is registered twice")
        MODEL_KINDS[name] = spec_class
        return spec_class
    return register


def spec_class_of(kind) -> type:
    """The spec class registered for `kind`; SpecError naming the kinds there are otherwise."""
    try:
        return MODEL_KINDS[kind]
    except (KeyError, TypeError):
        raise SpecError(f"unknown model kind {_show(kind)} (expected one of: {', '.join(MODEL_KINDS)})") from None


@model_kind("mlp")
@dataclass(frozen=True)
class MLPSpec:
    """Flatten, then Linear+ReLU per hidden width, then Linear to the 10 classes."""

    hidden: tuple[int, ...] = (64, 128)
    kind: Literal["mlp"] = "mlp"
    depth_range: ClassVar[tuple[int, int]] = HIDDEN_LAYER_RANGE  # how many layer_widths a spec may have
    channels_last: ClassVar[bool] = False  # the memory format its activations train fastest in on a CPU

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """The widths of the layers a student sets (hidden neurons): what labels and the board's families count."""
        return self.hidden

    @classmethod
    def from_dict(cls, data: dict) -> MLPSpec:
        return cls(hidden=_whole_list("hidden layer widths", data["hidden"]))

    def check(self) -> None:
        if not self.hidden:
            raise SpecError("an MLP needs at least one hidden layer")
        if len(self.hidden) > HIDDEN_LAYER_RANGE[1]:
            raise SpecError(f"at most {HIDDEN_LAYER_RANGE[1]} hidden layers, got {len(self.hidden)}")
        for index, width in enumerate(self.hidden, start=1):
            _check_choice(f"hidden layer {index} width", width, HIDDEN_CHOICES)

    def summary(self) -> str:
        return "MLP " + "-".join(str(width) for width in self.hidden)


@model_kind("cnn")
@dataclass(frozen=True)
class CNNSpec:
    """Per conv layer: Conv(k×k) → ReLU → MaxPool; then Linear(dense) → ReLU → Linear(10)."""

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
            conv_channels=_whole_list("conv layer filters", data["conv_channels"]),
            kernel_size=_whole("kernel size", data["kernel_size"]),
            padding=_whole("padding", data.get("padding", 0)),
            pool=_whole("pool size", data.get("pool", 2)),
            dense=_whole("dense width", data["dense"]),
        )

    def check(self) -> None:
        if not self.conv_channels:
            raise SpecError("a CNN needs at least one conv layer")
        if len(self.conv_channels) > CONV_LAYER_RANGE[1]:
            raise SpecError(f"at most {CONV_LAYER_RANGE[1]} conv layers, got {len(self.conv_channels)}")
        for index, channels in enumerate(self.conv_channels, start=1):
            _check_choice(f"conv layer {index} filters", channels, FILTER_CHOICES)
        _check_choice("kernel size", self.kernel_size, KERNEL_CHOICES)
        allowed_padding = tuple(padding_for(mode, self.kernel_size) for mode in PADDING_MODES)
        _check_choice("padding", self.padding, allowed_padding)
        _check_choice("pool size", self.pool, POOL_CHOICES)
        _check_choice("dense width", self.dense, DENSE_CHOICES)
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


ModelSpec = MLPSpec | CNNSpec


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained. `device` is a preference and is not part of the cache key."""

    epochs: int = 8
    batch_size: int = 256
    optimizer: str = "adam"
    lr: float = 1e-4
    seed: int = 0
    shuffle: bool = False
    schedule: str = "constant"
    label_smoothing: float = 0.0
    device: str = field(default="auto", compare=False)


@dataclass(frozen=True)
class RunSpec:
    """One run: which model, trained how."""

    model: ModelSpec
    train: TrainConfig

    def to_dict(self) -> dict:
        train = dataclasses.asdict(self.train)
        train.pop("device")
        return {"model": _model_to_dict(self.model), "train": train}

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        """Stable 16-hex-digit key: the same spec always gives the same key."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def summary(self) -> str:
        """Short human label such as `CNN 32-32 k3 d128 · adam 1e-04 · 8 ep`."""
        train = self.train
        return f"{self.model.summary()} · {train.optimizer} {train.lr:.0e} · {train.epochs} ep"


def _model_to_dict(model: ModelSpec) -> dict:
    data = dataclasses.asdict(model)
    for name, value in data.items():
        if isinstance(value, tuple):
            data[name] = list(value)
    return data


def _show(value) -> str:
    """A value inside a message, cut short: a hostile link may hold megabytes."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be a whole number, got {_show(value)}")
    return value


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{name} must be a finite number, got {_show(value)}")
    return float(value)


def _whole_list(name: str, value) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise SpecError(f"{name} must be a list of whole numbers, got {_show(value)}")
    return tuple(_whole(f"{name} {index}", item) for index, item in enumerate(value, start=1))


def _mapping(name: str, value) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{name} must be an object, got {_show(value)}")
    return value


def model_from_dict(data: dict) -> ModelSpec:
    """Rebuild a model spec from its dict form (as stored in checkpoints, links and the run store); no value is
    cast, so a wrong type is a SpecError, never a crash."""
    data = _mapping("model", data)
    spec_class = spec_class_of(data.get("kind"))
    try:
        return spec_class.from_dict(data)
    except KeyError as missing:
        raise SpecError(f"malformed run spec: the model has no {missing}") from None


TRAIN_FIELD_TYPES = {"epochs": _whole, "batch_size": _whole, "seed": _whole, "lr": _number,
                     "label_smoothing": _number}


def train_from_dict(data: dict, device: str = "auto") -> TrainConfig:
    """A TrainConfig from its dict form; missing fields take their defaults, unknown ones are ignored."""
    values = {}
    for field_info in dataclasses.fields(TrainConfig):
        name = field_info.name
        if name == "device" or name not in _mapping("train", data):
            continue
        value = data[name]
        if name in TRAIN_FIELD_TYPES:
            value = TRAIN_FIELD_TYPES[name](name.replace("_", " "), value)
        elif name == "shuffle" and not isinstance(value, bool):
            raise SpecError(f"shuffle must be true or false, got {_show(value)}")
        elif name in ("optimizer", "schedule") and not isinstance(value, str):
            raise SpecError(f"{name} must be a name, got {_show(value)}")
        values[name] = value
    return TrainConfig(**values, device=device)


def run_from_dict(data: dict, device: str = "auto") -> RunSpec:
    """Rebuild a RunSpec from `RunSpec.to_dict()` output, validating it; SpecError for anything else."""
    data = _mapping("run spec", data)
    if "model" not in data or "train" not in data:
        raise SpecError("malformed run spec: it needs a model and a train part")
    run = RunSpec(model_from_dict(data["model"]), train_from_dict(data["train"], device=device))
    validate(run)
    return run


def _no_constant(name: str):
    raise SpecError(f"{name} is not a number a spec can hold")


def run_from_json(text: str, device: str = "auto") -> RunSpec:
    """Parse and validate spec JSON of any origin; SpecError for anything that is not a valid spec."""
    if not isinstance(text, str) or len(text) > MAX_SPEC_TEXT:
        raise SpecError("the model description is too long to be one of this app's specs")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, ints of thousands of digits, deep nesting
        raise SpecError("the model description is not valid JSON") from None
    return run_from_dict(data, device=device)


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


def _check_range(name: str, value, bounds: tuple) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be a whole number, got {_show(value)}")
    if not low <= value <= high:
        raise SpecError(f"{name} must be between {low} and {high}, got {value}")


def _check_choice(name: str, value, choices: tuple) -> None:
    if isinstance(value, bool) or value not in choices:
        shown = ", ".join(f"{choice:g}" if isinstance(choice, float) else str(choice) for choice in choices)
        raise SpecError(f"{name} must be one of {shown}, got {_show(value)}")


def validate_model(model: ModelSpec) -> None:
    """Raise SpecError saying which layer fails and why; return None when the model can be built."""
    spec_class = spec_class_of(getattr(model, "kind", None))
    if not isinstance(model, spec_class):
        raise SpecError(f"unknown model spec {type(model).__name__}")
    model.check()


def validate_train(train: TrainConfig) -> None:
    _check_range("epochs", train.epochs, EPOCH_RANGE)
    _check_choice("batch size", train.batch_size, BATCH_CHOICES)
    _check_choice("optimizer", train.optimizer, OPTIMIZERS)
    _check_choice("learning rate", train.lr, LR_CHOICES)
    _check_range("seed", train.seed, SEED_RANGE)
    if not isinstance(train.shuffle, bool):
        raise SpecError(f"shuffle must be true or false, got {_show(train.shuffle)}")
    _check_choice("schedule", train.schedule, SCHEDULES)
    _check_choice("label smoothing", train.label_smoothing, LABEL_SMOOTHING_CHOICES)
    _check_choice("device", train.device, DEVICES)


def validate(run: RunSpec) -> None:
    """Validate model and training config; raise SpecError with a plain-words reason."""
    validate_model(run.model)
    validate_train(run.train)
