"""Model kinds. A kind is one module in this package that registers everything about it with `register`, as
timm's `@register_model` does: its spec class, the builder of its module, its widgets and the lesson controls that
lock or hide them, its command-line flags, its marker on the class board and its texts. Every other place (links,
checkpoints, the store, the widgets, the teacher's panel, the CLI, the charts) reads the registry, so adding a kind
is adding one module here (and its translations); `tests/test_kinds.py` adds a throw-away kind from one file, trains it
and opens it in the app.

The widgets are declared here as data, not drawn: the core knows nothing of Streamlit, and fmnist_ui/widgets.py
draws any kind from its declaration."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..checks import SpecError, show

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


def count_params(module) -> int:
    """The trainable numbers of a torch module."""
    return sum(parameter.numel() for parameter in module.parameters())


class ModelSpec(Protocol):
    """What every kind's spec class offers (a frozen dataclass whose `kind` field defaults to the kind's name)."""

    kind: str
    depth_range: ClassVar[tuple[int, int]]  # how many layer_widths a spec may have
    channels_last: ClassVar[bool]  # the memory format its activations train fastest in on a CPU

    @property
    def layer_widths(self) -> tuple[int, ...]: ...  # the widths a student sets: labels and the board count them

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec: ...  # no value cast: a wrong type is a SpecError

    def check(self) -> None: ...  # SpecError saying which layer fails and why

    def summary(self) -> str: ...  # a short English label for logs and the CLI


@dataclass(frozen=True)
class Slider:
    """A whole number in an inclusive range."""

    key: str  # the value's name among the widgets' values
    label: str  # a text key
    bounds: tuple[int, int]


@dataclass(frozen=True)
class Choice:
    """One value of a list: a select slider, or radio buttons for a few short options."""

    key: str
    label: str
    choices: tuple
    radio: bool = False
    option: str = ""  # a text key naming each option, "{value}" in the key or the text standing for it
    help: str = ""  # a text key


@dataclass(frozen=True)
class PerLayer:
    """One select slider per layer, as many as the value of the Slider `count`: values `<prefix>_<index>`, each
    labelled by the text `label` with its {index}."""

    prefix: str
    label: str
    choices: tuple
    count: str
    most: int  # the count's upper bound: every layer that can be shown keeps a value
    default: int  # the value of a layer the spec does not have yet (one more layer starts here)

    def keys(self) -> tuple[str, ...]:
        return tuple(f"{self.prefix}_{index}" for index in range(1, self.most + 1))


Widget = Slider | Choice | PerLayer


@dataclass(frozen=True)
class Control:
    """What a lesson can lock or hide: its name is the one in `?lock=`, `?hide=` and the teacher's panel (whose
    text is `control_<name>`); its widgets are drawn in order."""

    name: str
    widgets: tuple[Widget, ...]


@dataclass(frozen=True)
class Flag:
    """A command-line flag, `--` and the field's name with dashes, that sets one field of the kind's spec."""

    field: str
    whole_numbers: bool = False  # comma-separated whole numbers, for a tuple field
    help: str = ""


def no_changes(spec, usual) -> list[tuple[str, dict]]:
    return []


@dataclass(frozen=True)
class ModelKind:
    name: str
    spec: type  # its ModelSpec class
    build: Callable[[Any], tuple[Any, list]]  # spec → (torch module, [LayerInfo]); imports torch itself
    controls: tuple[Control, ...]
    to_state: Callable[[Any], dict]  # spec → the widgets' values that show it
    from_state: Callable[[Mapping], Any]  # the widgets' values → spec (not yet checked)
    flags: tuple[Flag, ...]
    marker: str  # its plotly marker symbol on the class board
    colors: tuple[str, ...]  # its families' colours on the board, one per depth of depth_range: fixed, whatever
    # other kinds there are (Okabe-Ito's, safe for colour-blind students; each (colour, marker) pair is unique)
    texts: Mapping[str, str]  # its English texts (kind_<name>, label_<name>, family_<name>, its widgets' labels)
    # what differs from the usual spec of its kind, as (text key, values) for a run's label
    changes: Callable[[Any, Any], list[tuple[str, dict]]] = field(default=no_changes)

    def widgets(self) -> tuple[Widget, ...]:
        return tuple(widget for control in self.controls for widget in control.widgets)

    def state_keys(self) -> tuple[str, ...]:
        """Every widget value this kind keeps (a per-layer widget's for every layer it can show)."""
        return tuple(key for widget in self.widgets()
                     for key in (widget.keys() if isinstance(widget, PerLayer) else (widget.key,)))


MODEL_KINDS: dict[str, ModelKind] = {}  # by name, in registration order (the order of the model type's buttons)


def register(kind: ModelKind) -> ModelKind:
    """Add a kind; its spec class's `kind` field must default to its name, and nothing it names (controls, widget
    values, texts, flags with another type, board looks) may be another kind's."""
    if kind.name in MODEL_KINDS:
        raise ValueError(f"model kind {kind.name!r} is registered twice")
    if kind.spec().kind != kind.name:
        raise ValueError(f"model kind {kind.name!r}: its spec's kind is {kind.spec().kind!r}")
    low, high = kind.spec.depth_range
    if len(kind.colors) != high - low + 1:
        raise ValueError(f"model kind {kind.name!r}: one colour per depth {low}–{high}, got {len(kind.colors)}")
    for other in MODEL_KINDS.values():
        shared = {
            "control": {control.name for control in kind.controls} & {control.name for control in other.controls},
            "widget value": set(kind.state_keys()) & set(other.state_keys()),
            "text": set(kind.texts) & set(other.texts),
            "flag": {flag.field for flag in kind.flags for theirs in other.flags
                     if flag.field == theirs.field and flag.whole_numbers != theirs.whole_numbers},
            "board look": {(color, kind.marker) for color in kind.colors} & {(color, other.marker)
                                                                            for color in other.colors},
        }
        for what, names in shared.items():
            if names:
                raise ValueError(f"model kind {kind.name!r}: {what} {sorted(names)[0]!r} is also {other.name!r}'s")
    MODEL_KINDS[kind.name] = kind
    return kind


def kind_named(name) -> ModelKind:
    """The registered kind called `name`; SpecError naming the kinds there are otherwise."""
    try:
        return MODEL_KINDS[name]
    except (KeyError, TypeError):
        raise SpecError(f"unknown model kind {show(name)} (expected one of: {', '.join(MODEL_KINDS)})") from None


def _register_built_in_kinds() -> None:
    """Import every module of this package, by name (cnn first: the app's subject); each registers its kind, so a
    new kind is a new file here and nothing else."""
    import importlib
    import pkgutil

    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}")


_register_built_in_kinds()
