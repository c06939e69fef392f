"""What a convolution is, computed step by step for the lesson: a kernel slides over a small grid of pixels and
each position writes one output pixel (the window, its nine products and their sum), with padding none or same and
stride 1 or 2; a 2×2 max-pool the same way; a whole 28×28 image through one filter, ReLU and max-pool; and which
classic kernel a learned filter is closest to. Plain tensor code, checked against torch.nn.functional.conv2d."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .kinds.cnn import PADDING_MODES, padding_for

STRIDES = (1, 2)
POOL_SIZE = 2
CROP_SIZE = 7  # a piece of a test image or of a drawing, as the student picks it
CROP_LEVELS = 9  # a crop's pixels as whole numbers 0…9: products and sums a student can check by hand
# The notebook's toy image: a small "T" of ones on zeros.
TOY_IMAGE = torch.tensor([[0, 0, 0, 0, 0],
                          [0, 1, 1, 1, 0],
                          [0, 0, 1, 0, 0],
                          [0, 0, 1, 0, 0],
                          [0, 0, 0, 0, 0]], dtype=torch.float32)
TOY_SIZE = TOY_IMAGE.shape[0]  # the notebook's animation: a 5×5 image and a 3×3 patch

# Kernels every image-processing course shows, in the order a lesson meets them. (k, k) each.
CLASSIC_KERNELS: dict[str, torch.Tensor] = {
    "vertical_edges": torch.tensor([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=torch.float32),  # Sobel
    "horizontal_edges": torch.tensor([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=torch.float32),
    "sharpen": torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float32),
    "blur": torch.full((3, 3), 1 / 9),
    "emboss": torch.tensor([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=torch.float32),
    "identity": torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=torch.float32),
}
CUSTOM_KERNEL_RANGE = (-9.0, 9.0)  # what a student may type into each of the nine cells


@dataclass(frozen=True)
class ConvStep:
    """One position of the kernel: its top-left corner in the padded input, the window under it (k, k), the
    products with the kernel (k, k), their sum, and the output pixel it writes (row, column)."""

    top: int
    left: int
    window: torch.Tensor
    products: torch.Tensor
    total: float
    output: tuple[int, int]


@dataclass(frozen=True)
class PoolStep:
    top: int
    left: int
    window: torch.Tensor
    largest: float
    output: tuple[int, int]


def padded(image: torch.Tensor, padding: str, kernel_size: int = 3) -> torch.Tensor:
    """The image (H, W) with the zeros a padding mode adds around it (PADDING_MODES: "valid" none, "same")."""
    if padding not in PADDING_MODES:
        raise ValueError(f"padding is one of {PADDING_MODES}")
    zeros = padding_for(padding, kernel_size)
    return torch.nn.functional.pad(image, (zeros, zeros, zeros, zeros))


def output_size(size: int, kernel_size: int, padding: str, stride: int) -> int:
    """Pixels per side of a convolution's output: (size + 2·padding − kernel) // stride + 1."""
    return (size + 2 * padding_for(padding, kernel_size) - kernel_size) // stride + 1


def conv_steps(image: torch.Tensor, kernel: torch.Tensor, padding: str = "valid", stride: int = 1) -> list[ConvStep]:
    """Every position of `kernel` (k, k) over `image` (H, W), in reading order: what one convolution filter does."""
    if stride not in STRIDES:
        raise ValueError(f"stride is one of {STRIDES}")
    size = kernel.shape[0]
    source = padded(image.float(), padding, size)
    steps = []
    rows, columns = (output_size(side, size, padding, stride) for side in image.shape)
    for row in range(rows):
        for column in range(columns):
            top, left = row * stride, column * stride
            window = source[top:top + size, left:left + size]
            products = window * kernel
            steps.append(ConvStep(top, left, window, products, float(products.sum()), (row, column)))
    return steps


def convolve(image: torch.Tensor, kernel: torch.Tensor, padding: str = "valid", stride: int = 1) -> torch.Tensor:
    """The whole output map (rows, columns) of `conv_steps`: the sums at their places."""
    steps = conv_steps(image, kernel, padding, stride)
    rows, columns = steps[-1].output[0] + 1, steps[-1].output[1] + 1
    return torch.tensor([step.total for step in steps]).reshape(rows, columns)


def pool_steps(feature: torch.Tensor, size: int = POOL_SIZE) -> list[PoolStep]:
    """Every window of a size×size max-pool with stride `size` over `feature` (H, W): the largest value wins."""
    steps = []
    for row in range(feature.shape[0] // size):
        for column in range(feature.shape[1] // size):
            window = feature[row * size:(row + 1) * size, column * size:(column + 1) * size]
            steps.append(PoolStep(row * size, column * size, window, float(window.max()), (row, column)))
    return steps


def max_pool(feature: torch.Tensor, size: int = POOL_SIZE) -> torch.Tensor:
    steps = pool_steps(feature, size)
    if not steps:
        return feature.new_zeros((0, 0))
    return torch.tensor([step.largest for step in steps]).reshape(feature.shape[0] // size, feature.shape[1] // size)


@dataclass(frozen=True)
class FilterEffect:
    """A full image through one filter: the convolution's output, after ReLU, after a 2×2 max-pool. (H, W) each."""

    convolved: torch.Tensor
    rectified: torch.Tensor
    pooled: torch.Tensor


def filter_effect(image: torch.Tensor, kernel: torch.Tensor, padding: str = "valid") -> FilterEffect:
    """What one filter does to an image (H, W): convolution (stride 1), then ReLU, then max-pool, as in a CNN's
    first layer. Computed with unfold (the same sums as `conv_steps`, all at once)."""
    size = kernel.shape[-1]
    source = padded(image.float(), padding, size)
    patches = source.unfold(0, size, 1).unfold(1, size, 1)  # (rows, columns, k, k)
    convolved = (patches * kernel).sum(dim=(-1, -2))
    rectified = convolved.clamp(min=0)
    return FilterEffect(convolved, rectified, max_pool(rectified))


def closest_classic(kernel: torch.Tensor) -> tuple[str, float, int]:
    """The classic 3×3 kernel most like `kernel`: (name, cosine similarity in [0, 1], sign). A learned filter is
    compared as a direction (its scale does not matter), and a sign of -1 means its opposite (a light-to-dark edge
    detector where the classic one finds dark-to-light)."""
    flat = kernel.detach().float().flatten()
    best = ("identity", 0.0, 1)
    for name, classic in CLASSIC_KERNELS.items():
        similarity = float(torch.nn.functional.cosine_similarity(flat, classic.flatten(), dim=0))
        if abs(similarity) > best[1]:
            best = (name, abs(similarity), 1 if similarity >= 0 else -1)
    return best


def crop(image: torch.Tensor, top: int, left: int, size: int = CROP_SIZE) -> torch.Tensor:
    """A size×size piece of a 28×28 image (values 0…1) as whole numbers 0…CROP_LEVELS, within the image."""
    top = max(0, min(int(top), image.shape[-2] - size))
    left = max(0, min(int(left), image.shape[-1] - size))
    piece = image.reshape(image.shape[-2], image.shape[-1])[top:top + size, left:left + size]
    return (piece.clamp(0, 1) * CROP_LEVELS).round()


def checked_kernel(values) -> torch.Tensor:
    """Nine numbers a student typed, as a 3×3 kernel within CUSTOM_KERNEL_RANGE; ValueError otherwise."""
    numbers = [float(value) for value in values]
    low, high = CUSTOM_KERNEL_RANGE
    if len(numbers) != 9 or not all(low <= number <= high for number in numbers):
        raise ValueError(f"a kernel is 9 numbers from {low:g} to {high:g}")
    return torch.tensor(numbers, dtype=torch.float32).reshape(3, 3)
