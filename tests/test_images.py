"""Pictures: kernels scaled per filter so every filter's pattern shows."""
import numpy as np
import torch

from fmnist_core.images import kernel_grid


def tile(image, index, cell=40, columns=16, gap=3, label_height=11):
    x = index * (cell + gap)
    return np.asarray(image)[label_height:label_height + cell, x:x + cell]


def test_a_filter_with_small_weights_shows_its_pattern_beside_one_with_large_weights():
    kernels = torch.zeros(2, 1, 3, 3)
    kernels[0, 0] = torch.tensor([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]]) * 5.0  # a strong vertical edge
    kernels[1, 0] = torch.tensor([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]]) * 0.05  # a weak horizontal edge
    image = kernel_grid(kernels, columns=16, cell=40)
    strong, weak = tile(image, 0), tile(image, 1)
    # The weak filter's extremes are as saturated as the strong one's: far from white (247, 247, 247).
    assert np.abs(weak.astype(int) - 247).max() == np.abs(strong.astype(int) - 247).max()
    assert np.abs(weak.astype(int) - 247).max() > 150


def test_an_all_zero_filter_stays_white():
    image = kernel_grid(torch.zeros(1, 1, 3, 3))
    assert (np.abs(tile(image, 0).astype(int) - 247) <= 2).all()
