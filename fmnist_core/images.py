"""Pictures for the explorer: feature maps and kernels tiled into one image, thumbnails. Pure functions."""
from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image, ImageDraw

# Viridis sampled at 9 points (perceptually uniform, readable on a projector and for colour-blind eyes).
_VIRIDIS_ANCHORS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
], dtype=np.float32)
_POSITIONS = np.linspace(0.0, 1.0, len(_VIRIDIS_ANCHORS))
VIRIDIS = np.stack([np.interp(np.linspace(0, 1, 256), _POSITIONS, _VIRIDIS_ANCHORS[:, channel])
                    for channel in range(3)], axis=1).astype(np.uint8)  # (256, 3)

# A diverging blue-white-red map for kernels, whose weights are signed.
_DIVERGING_ANCHORS = np.array([[33, 102, 172], [247, 247, 247], [178, 24, 43]], dtype=np.float32)
DIVERGING = np.stack([np.interp(np.linspace(0, 1, 256), [0, 0.5, 1], _DIVERGING_ANCHORS[:, channel])
                      for channel in range(3)], axis=1).astype(np.uint8)


def colorize(values: np.ndarray, low: float, high: float, palette: np.ndarray = VIRIDIS) -> np.ndarray:
    """Map a float array to RGB uint8 with a fixed [low, high] range (the same for every tile of a grid)."""
    span = high - low if high > low else 1.0
    index = np.clip((values - low) / span * 255.0, 0, 255).astype(np.uint8)
    return palette[index]


def tile_grid(
    maps: torch.Tensor, columns: int, cell: int, low: float, high: float, palette: np.ndarray = VIRIDIS,
    labels: list[str] | None = None, gap: int = 3,
) -> Image.Image:
    """Tile maps (C, H, W) into one RGB image, each upscaled (nearest) to `cell` pixels, labelled in a corner."""
    count = maps.shape[0]
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    label_height = 11 if labels else 0
    width = columns * cell + (columns - 1) * gap
    height = rows * (cell + label_height) + (rows - 1) * gap
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    values = maps.detach().float().cpu().numpy()
    for index in range(count):
        row, column = divmod(index, columns)
        x = column * (cell + gap)
        y = row * (cell + label_height + gap)
        tile = Image.fromarray(colorize(values[index], low, high, palette)).resize((cell, cell), Image.NEAREST)
        canvas.paste(tile, (x, y + label_height))
        if labels:
            draw.text((x + 1, y - 1), labels[index], fill=(40, 40, 40))
    return canvas


def feature_grid(layer_maps: torch.Tensor, columns: int = 16, cell: int = 52) -> Image.Image:
    """One image's maps of one layer (C, H, W): one tile per filter, one colour scale for the whole layer."""
    high = float(layer_maps.max()) if layer_maps.numel() else 1.0
    labels = [f"#{index}" for index in range(layer_maps.shape[0])]
    return tile_grid(layer_maps, columns, cell, 0.0, max(high, 1e-6), labels=labels)


def kernel_grid(kernels: torch.Tensor, columns: int = 16, cell: int = 40) -> Image.Image:
    """Filters (out, in, k, k) averaged over input channels; blue negative, red positive, white zero. Each filter
    is scaled by its own largest weight: on one scale for the layer, most filters came out nearly white."""
    mean_kernels = kernels.float().mean(dim=1)  # (out, k, k)
    bounds = mean_kernels.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    labels = [f"#{index}" for index in range(mean_kernels.shape[0])]
    return tile_grid(mean_kernels / bounds, columns, cell, -1.0, 1.0, palette=DIVERGING, labels=labels)


def digit_image(image_uint8: torch.Tensor, size: int = 112) -> Image.Image:
    """A 28×28 uint8 image enlarged without blurring, for display."""
    return Image.fromarray(image_uint8.cpu().numpy(), mode="L").resize((size, size), Image.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    """PNG at compression level 1: about three times faster to encode than level 6 for a few per cent more
    bytes (BENCHMARKS.md). Pictures are made while a student waits for a click's answer."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


PNG_DATA_PREFIX = "data:image/png;base64,"


def png_data_address(png: bytes) -> str:
    """PNG bytes as a data address (what an <img> shows without asking the server for a file)."""
    return PNG_DATA_PREFIX + base64.b64encode(png).decode("ascii")


REGIONS = ("top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right")


def strongest_filters(maps: torch.Tensor, count: int = 3) -> list[tuple[int, float, str]]:
    """The `count` filters whose maps (C, H, W) respond most strongly (highest mean), each with that mean and the
    region of the image (a third by a third, a name of REGIONS) where its response peaks: what a text
    alternative of a feature grid says."""
    channels, height, width = maps.shape
    means = maps.float().mean(dim=(1, 2))
    order = torch.argsort(means, descending=True, stable=True)[:count].tolist()
    described = []
    for channel in order:
        peak = int(torch.argmax(maps[channel]).item())
        row, column = divmod(peak, width)
        region = REGIONS[min(2, 3 * row // height) * 3 + min(2, 3 * column // width)]
        described.append((channel, float(means[channel]), region))
    return described


def heat_overlay(image_uint8: torch.Tensor, heat: torch.Tensor, size: int = 224) -> Image.Image:
    """A heat map (28, 28) in [0, 1] over its grey image, enlarged without blurring: dark where nothing mattered,
    bright yellow where hiding the pixels changed the answer most."""
    grey = image_uint8.float().cpu().numpy()[..., None] / 255.0
    colour = colorize(heat.detach().float().cpu().numpy(), 0.0, 1.0).astype(np.float32) / 255.0
    blended = 0.35 * grey + 0.65 * colour
    return Image.fromarray((blended * 255).astype(np.uint8)).resize((size, size), Image.NEAREST)
