"""Declarative descriptions of a run: the model spec plus its training config.

Widgets build these, the core consumes them, checkpoints store them and the cache
keys on the hash of their canonical JSON. The training config's limits and choices are here; each model kind's
are in its module (fmnist_core/kinds/), and everything else (widgets, link decoding, model-file import, charts, the
CLI) reads them from those two places.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from .checks import IMAGE_SIZE, NUM_CLASSES, SpecError, check_choice, check_range, mapping, number, show, whole
from .kinds import ModelSpec, kind_named

__all__ = ["IMAGE_SIZE", "NUM_CLASSES", "ModelSpec", "RunSpec", "SpecError", "TrainConfig"]

# Limits and choices of training. Ranges are inclusive (low, high). A value outside them is refused wherever it
# comes from, so whatever the core accepts a page can show.
EPOCH_RANGE = (1, 30)
BATCH_CHOICES = (32, 64, 128, 256, 512, 1024)
LR_CHOICES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 8e-3, 1e-2, 3e-2, 1e-1)
LABEL_SMOOTHING_CHOICES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
SEED_RANGE = (0, 2**31 - 1)
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_SPEC_TEXT = 4096  # characters of spec JSON (or of a link's encoded spec): a real one is about 300


def snap_label_smoothing(value: float) -> float:
    """A slider's float (0.15000000000000002) as the choice it means."""
    return min(LABEL_SMOOTHING_CHOICES, key=lambda choice: abs(choice - value))


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


def model_from_dict(data: dict) -> ModelSpec:
    """Rebuild a model spec from its dict form (as stored in checkpoints, links and the run store); no value is
    cast, so a wrong type is a SpecError, never a crash."""
    data = mapping("model", data)
    spec_class = kind_named(data.get("kind")).spec
    try:
        return spec_class.from_dict(data)
    except KeyError as missing:
        raise SpecError(f"malformed run spec: the model has no {missing}") from None


TRAIN_FIELD_TYPES = {"epochs": whole, "batch_size": whole, "seed": whole, "lr": number,
                     "label_smoothing": number}


def train_from_dict(data: dict, device: str = "auto") -> TrainConfig:
    """A TrainConfig from its dict form; missing fields take their defaults, unknown ones are ignored."""
    values = {}
    for field_info in dataclasses.fields(TrainConfig):
        name = field_info.name
        if name == "device" or name not in mapping("train", data):
            continue
        value = data[name]
        if name in TRAIN_FIELD_TYPES:
            value = TRAIN_FIELD_TYPES[name](name.replace("_", " "), value)
        elif name == "shuffle" and not isinstance(value, bool):
            raise SpecError(f"shuffle must be true or false, got {show(value)}")
        elif name in ("optimizer", "schedule") and not isinstance(value, str):
            raise SpecError(f"{name} must be a name, got {show(value)}")
        values[name] = value
    return TrainConfig(**values, device=device)


def run_from_dict(data: dict, device: str = "auto") -> RunSpec:
    """Rebuild a RunSpec from `RunSpec.to_dict()` output, validating it; SpecError for anything else."""
    data = mapping("run spec", data)
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


def validate_model(model: ModelSpec) -> None:
    """Raise SpecError saying which layer fails and why; return None when the model can be built."""
    spec_class = kind_named(getattr(model, "kind", None)).spec
    if not isinstance(model, spec_class):
        raise SpecError(f"unknown model spec {type(model).__name__}")
    model.check()


def validate_train(train: TrainConfig) -> None:
    check_range("epochs", train.epochs, EPOCH_RANGE)
    check_choice("batch size", train.batch_size, BATCH_CHOICES)
    check_choice("optimizer", train.optimizer, OPTIMIZERS)
    check_choice("learning rate", train.lr, LR_CHOICES)
    check_range("seed", train.seed, SEED_RANGE)
    if not isinstance(train.shuffle, bool):
        raise SpecError(f"shuffle must be true or false, got {show(train.shuffle)}")
    check_choice("schedule", train.schedule, SCHEDULES)
    check_choice("label smoothing", train.label_smoothing, LABEL_SMOOTHING_CHOICES)
    check_choice("device", train.device, DEVICES)


def validate(run: RunSpec) -> None:
    """Validate model and training config; raise SpecError with a plain-words reason."""
    validate_model(run.model)
    validate_train(run.train)
