"""Checks for values that arrive from anywhere (links, model files, the store, the command line): each wrong value is
a SpecError whose message names it, never a crash. Shared by the run spec (specs.py) and every model kind (kinds/);
imports nothing heavy, so a cached answer never loads torch."""
from __future__ import annotations

import math

IMAGE_SIZE = 28
NUM_CLASSES = 10


class SpecError(ValueError):
    """A spec or config that cannot be built or trained; the message says why."""


def show(value) -> str:
    """A value inside a message, cut short: a hostile link may hold megabytes."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be a whole number, got {show(value)}")
    return value


def number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{name} must be a finite number, got {show(value)}")
    return float(value)


def whole_list(name: str, value) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise SpecError(f"{name} must be a list of whole numbers, got {show(value)}")
    return tuple(whole(f"{name} {index}", item) for index, item in enumerate(value, start=1))


def mapping(name: str, value) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{name} must be an object, got {show(value)}")
    return value


def check_range(name: str, value, bounds: tuple) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be a whole number, got {show(value)}")
    if not low <= value <= high:
        raise SpecError(f"{name} must be between {low} and {high}, got {value}")


def check_choice(name: str, value, choices: tuple) -> None:
    if isinstance(value, bool) or value not in choices:
        shown = ", ".join(f"{choice:g}" if isinstance(choice, float) else str(choice) for choice in choices)
        raise SpecError(f"{name} must be one of {shown}, got {show(value)}")
