"""A throw-away model kind, all in this one file as the README's recipe says: average-pool the image, one hidden
layer, the 10 classes. tests/test_kinds.py imports it (which registers it), trains it and opens it in the app."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar, Literal

from fmnist_core.checks import IMAGE_SIZE, NUM_CLASSES, check_choice, whole
from fmnist_core.kinds import Choice, Control, Flag, LayerInfo, ModelKind, count_params, register

POOL_CHOICES = (1, 2, 4)
WIDTH_CHOICES = (16, 32, 64)


@dataclass(frozen=True)
class PooledSpec:
    pool: int = 2
    width: int = 32
    kind: Literal["pooled"] = "pooled"
    depth_range: ClassVar[tuple[int, int]] = (1, 1)
    channels_last: ClassVar[bool] = False

    @property
    def layer_widths(self) -> tuple[int, ...]:
        return (self.width,)

    @classmethod
    def from_dict(cls, data: dict) -> PooledSpec:
        return cls(pool=whole("pool", data["pool"]), width=whole("width", data["width"]))

    def check(self) -> None:
        check_choice("pool", self.pool, POOL_CHOICES)
        check_choice("width", self.width, WIDTH_CHOICES)

    def summary(self) -> str:
        return f"Pooled /{self.pool} {self.width}"


def build(spec: PooledSpec):
    from torch import nn

    flat = (IMAGE_SIZE // spec.pool) ** 2
    modules = OrderedDict(pool=nn.AvgPool2d(spec.pool), flatten=nn.Flatten(),
                          dense=nn.Sequential(nn.Linear(flat, spec.width), nn.ReLU()),
                          output=nn.Linear(spec.width, NUM_CLASSES))
    layers = [LayerInfo("flatten", "flatten", (flat,), 0),
              LayerInfo("dense", "dense", (spec.width,), count_params(modules["dense"])),
              LayerInfo("output", "output", (NUM_CLASSES,), count_params(modules["output"]))]
    return nn.Sequential(modules), layers


KIND = register(ModelKind(
    name="pooled",
    spec=PooledSpec,
    build=build,
    controls=(Control("pool", (Choice("pool", "pooled_pool", POOL_CHOICES, radio=True, option="pooled_option"),)),
              Control("pooled_width", (Choice("pooled_width", "pooled_width", WIDTH_CHOICES),))),
    to_state=lambda spec: {"pool": spec.pool, "pooled_width": spec.width},
    from_state=lambda state: PooledSpec(pool=int(state["pool"]), width=int(state["pooled_width"])),
    flags=(Flag("pool", help="average-pool the image by this factor"), Flag("width")),
    marker="diamond",
    colors=("#0072B2",),
    texts={"kind_pooled": "Pooled MLP", "label_pooled": "Pooled MLP {widths} neurons",
           "family_pooled": "Pooled MLP", "pooled_pool": "Shrink the image by", "pooled_option": "{value}×",
           "pooled_width": "Neurons", "control_pool": "Shrinking", "control_pooled_width": "Neurons"},
))
