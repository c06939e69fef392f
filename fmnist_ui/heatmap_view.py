"""Explore's "Where the model looked": for one image and one class, a heat map of the pixels that mattered
(occlusion for every model, Grad-CAM for CNNs), beside another run's for comparison (an MLP's, say), with a text
alternative that says where the heat is. A view with explicit arguments: the page hands it what it shows."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st
import torch

from fmnist_core.data import as_input
from fmnist_core.images import heat_overlay, png_bytes
from fmnist_core.models import BuiltModel
from fmnist_core.saliency import OCCLUSION_PATCH, grad_cam, heat_summary, occlusion_map

from .i18n import t

METHODS = ("occlusion", "gradcam")


@st.cache_data(show_spinner=False, max_entries=128)
def _heat(run_key: str, epoch: int, method: str, image_bytes: bytes, target: int, _model: BuiltModel) -> torch.Tensor:
    """A heat map, shared by the class (the same run, image and class cost once)."""
    image = as_input(torch.frombuffer(bytearray(image_bytes), dtype=torch.uint8).reshape(1, 28, 28))[0]
    return grad_cam(_model, image, target) if method == "gradcam" else occlusion_map(_model, image, target)


def heat_of(run_key: str, epoch: int, model: BuiltModel, method: str, image_uint8: torch.Tensor,
            target: int) -> torch.Tensor:
    return _heat(run_key, epoch, method, image_uint8.contiguous().numpy().tobytes(), target, model)


def heat_alt(model_name: str, class_name: str, heat: torch.Tensor) -> str:
    region, area = heat_summary(heat)
    return t("heat_alt", model=model_name, label=class_name, region=t(f"region_{region}"), area=area)


def show_heat(column, image_uint8: torch.Tensor, heat: torch.Tensor, title: str, class_name: str) -> None:
    column.markdown(f"**{title}**")
    column.image(png_bytes(heat_overlay(image_uint8, heat)), width=224, output_format="PNG",
                 alt=heat_alt(title, class_name, heat))
    region, area = heat_summary(heat)
    column.caption(t("heat_caption", region=t(f"region_{region}"), area=area))


def looked_view(run_key: str, epoch: int, model: BuiltModel, model_name: str, image_uint8: torch.Tensor,
                probabilities: Sequence[float], names: tuple[str, ...], others: dict[str, str],
                load: Callable[[str], tuple[int, BuiltModel]]) -> None:
    """The heat maps of run `run_key` (its `model` at `epoch`) for one image, beside those of a run the student
    picks from `others` (key → name; `load(key)` gives its epoch and model)."""
    key = run_key
    st.caption(t("looked_intro"))
    predicted = max(range(10), key=probabilities.__getitem__)
    class_column, method_column = st.columns(2)
    target = class_column.selectbox(t("looked_class"), range(10), index=predicted, key=f"looked_class_{key}",
                                    format_func=lambda label: t("looked_class_option", label=names[label],
                                                                probability=probabilities[label]))
    methods = METHODS if model.conv_layers else METHODS[:1]
    method = method_column.radio(t("looked_method"), methods, key=f"looked_method_{key}", horizontal=True,
                                 format_func=lambda name: t(f"looked_{name}"))
    if not model.conv_layers:
        method_column.caption(t("looked_no_gradcam"))
    st.caption(t(f"looked_{method}_help", patch=OCCLUSION_PATCH))
    other_key = st.selectbox(t("looked_compare"), [None, *others], key=f"looked_compare_{key}",
                             format_func=lambda choice: t("looked_compare_none") if choice is None
                             else others[choice])
    columns = st.columns(2)
    show_heat(columns[0], image_uint8, heat_of(run_key, epoch, model, method, image_uint8, target), model_name,
              names[target])
    if other_key is not None:
        other_epoch, other_model = load(other_key)
        other_name = others[other_key]
        other_method = method if other_model.conv_layers else "occlusion"  # an MLP has no conv layer: occlusion
        show_heat(columns[1], image_uint8, heat_of(other_key, other_epoch, other_model, other_method, image_uint8,
                                                   target), other_name, names[target])
