"""Text alternatives for what the pages draw (alt text for images, sentences for feature grids), in the session's
language, generated from the data itself."""
from __future__ import annotations

import torch

from fmnist_core.images import strongest_filters

from .i18n import t


def test_image_alt(index: int, label: str) -> str:
    return t("alt_test_image", index=index, label=label)


def strongest_text(strongest: list[tuple[int, float, str]]) -> str:
    """'filter #5 (peak at the top left), filter #12 (…)' from `strongest_filters`."""
    return ", ".join(t("alt_filter_peak", filter=channel, region=t(f"region_{region}"))
                     for channel, _, region in strongest)


def feature_grid_alt(name: str, filters: int, size: int, strongest: list[tuple[int, float, str]]) -> str:
    """One sentence for a layer's grid of maps: how many, what size, which filters respond most and where."""
    return t("alt_feature_grid", name=name, filters=filters, size=size, strongest=strongest_text(strongest))


def kernels_alt(name: str, kernels: torch.Tensor) -> str:
    """The filter weights of a conv layer, kernels (out, in, k, k)."""
    return t("alt_kernels", name=name, filters=kernels.shape[0], size=kernels.shape[-1])


def compare_map_alt(layer: str, filter_index: int, image: str, layer_map: torch.Tensor) -> str:
    """One filter's map (H, W) of one image in the compare view."""
    [(_, _, region)] = strongest_filters(layer_map[None], count=1)
    return t("alt_compare_map", layer=layer, filter=filter_index, image=image, region=t(f"region_{region}"))


def markdown_bold(text: str) -> str:
    """Escaped HTML of a sentence whose only markup is **bold** (our translated texts)."""
    import html
    import re

    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))
