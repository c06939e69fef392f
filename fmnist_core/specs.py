"""Declarative descriptions of a run: the model spec plus its training config.

Widgets build these, the core consumes them, checkpoints store them and the cache
keys on the hash of their canonical JSON.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

IMAGE_SIZE = 28
NUM_CLASSES = 10

MAX_CONV_LAYERS = 6
MAX_CHANNELS = 512
MAX_DENSE = 4096
MAX_HIDDEN_LAYERS = 6
MAX_EPOCHS = 200
MAX_BATCH = 8192
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")


class SpecError(ValueError):
    """A spec or config that cannot be built or trained; the message says why."""


@dataclass(frozen=True)
class MLPSpec:
    """Flatten, then Linear+ReLU per hidden width, then Linear to the 10 classes."""

    hidden: tuple[int, ...] = (64, 128)
    kind: Literal["mlp"] = "mlp"


@dataclass(frozen=True)
class CNNSpec:
    """Per conv layer: Conv(k×k) → ReLU → MaxPool; then Linear(dense) → ReLU → Linear(10)."""

    conv_channels: tuple[int, ...] = (32, 32)
    kernel_size: int = 3
    padding: int = 0
    pool: int = 2
    dense: int = 128
    kind: Literal["cnn"] = "cnn"


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
        return f"{model_summary(self.model)} · {train.optimizer} {train.lr:.0e} · {train.epochs} ep"


def model_summary(model: ModelSpec) -> str:
    if isinstance(model, CNNSpec):
        pad = f" p{model.padding}" if model.padding else ""
        channels = "-".join(str(c) for c in model.conv_channels)
        return f"CNN {channels} k{model.kernel_size}{pad} d{model.dense}"
    return "MLP " + "-".join(str(h) for h in model.hidden)


def _model_to_dict(model: ModelSpec) -> dict:
    data = dataclasses.asdict(model)
    for name, value in data.items():
        if isinstance(value, tuple):
            data[name] = list(value)
    return data


def model_from_dict(data: dict) -> ModelSpec:
    """Rebuild a model spec from its dict form (as stored in checkpoints and the run store)."""
    kind = data.get("kind")
    if kind == "cnn":
        return CNNSpec(
            conv_channels=tuple(int(c) for c in data["conv_channels"]),
            kernel_size=int(data["kernel_size"]),
            padding=int(data.get("padding", 0)),
            pool=int(data.get("pool", 2)),
            dense=int(data["dense"]),
        )
    if kind == "mlp":
        return MLPSpec(hidden=tuple(int(h) for h in data["hidden"]))
    raise SpecError(f"unknown model kind {kind!r} (expected 'mlp' or 'cnn')")


def run_from_dict(data: dict, device: str = "auto") -> RunSpec:
    """Rebuild a RunSpec from `RunSpec.to_dict()` output, validating it."""
    try:
        model = model_from_dict(data["model"])
        train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
        train = TrainConfig(**{k: v for k, v in data["train"].items() if k in train_fields}, device=device)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, SpecError):
            raise
        raise SpecError(f"malformed run spec: {error}") from error
    run = RunSpec(model, train)
    validate(run)
    return run


def run_from_json(text: str, device: str = "auto") -> RunSpec:
    return run_from_dict(json.loads(text), device=device)


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


def _check_range(name: str, value, low, high) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"{name} must be between {low} and {high}, got {value}")


def validate_model(model: ModelSpec) -> None:
    """Raise SpecError saying which layer fails and why; return None when the model can be built."""
    if isinstance(model, MLPSpec):
        if not model.hidden:
            raise SpecError("an MLP needs at least one hidden layer")
        if len(model.hidden) > MAX_HIDDEN_LAYERS:
            raise SpecError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(model.hidden)}")
        for index, width in enumerate(model.hidden, start=1):
            _check_range(f"hidden layer {index} width", width, 1, MAX_DENSE)
        return
    if not isinstance(model, CNNSpec):
        raise SpecError(f"unknown model spec {type(model).__name__}")
    if not model.conv_channels:
        raise SpecError("a CNN needs at least one conv layer")
    if len(model.conv_channels) > MAX_CONV_LAYERS:
        raise SpecError(f"at most {MAX_CONV_LAYERS} conv layers, got {len(model.conv_channels)}")
    for index, channels in enumerate(model.conv_channels, start=1):
        _check_range(f"conv layer {index} filters", channels, 1, MAX_CHANNELS)
    _check_range("kernel size", model.kernel_size, 1, IMAGE_SIZE)
    _check_range("padding", model.padding, 0, model.kernel_size // 2)
    _check_range("pool size", model.pool, 1, 4)
    _check_range("dense width", model.dense, 1, MAX_DENSE)
    size = IMAGE_SIZE
    for index, (conv_size, pool_size) in enumerate(conv_output_sizes(model), start=1):
        if conv_size < 1:
            raise SpecError(
                f"conv layer {index}: a {model.kernel_size}×{model.kernel_size} kernel does not fit "
                f"its {size}×{size} input (output would be {conv_size}×{conv_size}); "
                "remove a layer, use a smaller kernel or add padding"
            )
        if pool_size < 1:
            raise SpecError(
                f"pool after conv layer {index}: its {conv_size}×{conv_size} map is smaller than "
                f"the {model.pool}×{model.pool} pool (output would be 0×0); remove a layer or use a smaller kernel"
            )
        size = pool_size


def validate_train(train: TrainConfig) -> None:
    _check_range("epochs", train.epochs, 1, MAX_EPOCHS)
    if not isinstance(train.epochs, int):
        raise SpecError(f"epochs must be a whole number, got {train.epochs!r}")
    _check_range("batch size", train.batch_size, 1, MAX_BATCH)
    if train.optimizer not in OPTIMIZERS:
        raise SpecError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {train.optimizer!r}")
    if isinstance(train.lr, bool) or not isinstance(train.lr, (int, float)) or not train.lr > 0:
        raise SpecError(f"learning rate must be greater than 0, got {train.lr!r}")
    if train.lr > 10:
        raise SpecError(f"learning rate {train.lr} is far too large (at most 10)")
    _check_range("seed", train.seed, 0, 2**31 - 1)
    if train.schedule not in SCHEDULES:
        raise SpecError(f"schedule must be one of {', '.join(SCHEDULES)}, got {train.schedule!r}")
    _check_range("label smoothing", train.label_smoothing, 0.0, 0.5)
    if train.device not in DEVICES:
        raise SpecError(f"device must be one of {', '.join(DEVICES)}, got {train.device!r}")


def validate(run: RunSpec) -> None:
    """Validate model and training config; raise SpecError with a plain-words reason."""
    validate_model(run.model)
    validate_train(run.train)
