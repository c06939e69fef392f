"""The convolution lesson's arithmetic against PyTorch's own operators (issue #24)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fmnist_core.convolution import (
    CLASSIC_KERNELS,
    TOY_IMAGE,
    checked_kernel,
    closest_classic,
    conv_steps,
    convolve,
    crop,
    filter_effect,
    max_pool,
    pool_steps,
)


def reference(image, kernel, padding, stride):
    """torch.nn.functional.conv2d (cross-correlation, as in every CNN layer) on the same input."""
    zeros = kernel.shape[-1] // 2 if padding == "same" else 0
    return torch.nn.functional.conv2d(image[None, None], kernel[None, None], padding=zeros, stride=stride)[0, 0]


@pytest.mark.parametrize("padding, stride, size", [("valid", 1, 3), ("same", 1, 5), ("valid", 2, 2), ("same", 2, 3)])
def test_the_toy_image_gives_the_notebooks_sizes_and_pytorchs_numbers(padding, stride, size):
    kernel = CLASSIC_KERNELS["vertical_edges"]
    steps = conv_steps(TOY_IMAGE, kernel, padding, stride)
    assert len(steps) == size * size  # padding none: 3×3; same: 5×5 (the padded zeros keep the size)
    assert torch.allclose(convolve(TOY_IMAGE, kernel, padding, stride), reference(TOY_IMAGE, kernel, padding, stride))
    first = steps[0]
    assert first.products.shape == (3, 3) and first.total == pytest.approx(float((first.window * kernel).sum()))
    if padding == "same":
        assert first.window[0].tolist() == [0, 0, 0] and first.window[:, 0].tolist() == [0, 0, 0]  # drawn zeros


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False, width=32), min_size=49, max_size=49),
       st.lists(st.floats(-2, 2, allow_nan=False, width=32), min_size=9, max_size=9),
       st.sampled_from(["valid", "same"]), st.sampled_from([1, 2]))
def test_any_image_and_kernel_match_conv2d(pixels, weights, padding, stride):
    image, kernel = torch.tensor(pixels).reshape(7, 7), torch.tensor(weights).reshape(3, 3)
    assert torch.allclose(convolve(image, kernel, padding, stride), reference(image, kernel, padding, stride),
                          atol=1e-4)


def test_a_filter_on_a_whole_image_then_relu_then_max_pool_is_a_cnn_layer(data):
    image = data.test_images[0].float() / 255  # the model's input scale, 0…1
    kernel = torch.randn(3, 3, generator=torch.Generator().manual_seed(0))
    effect = filter_effect(image, kernel)
    expected = reference(image, kernel, "valid", 1)
    assert effect.convolved.shape == (26, 26) and torch.allclose(effect.convolved, expected, atol=1e-5)
    assert torch.allclose(effect.rectified, expected.clamp(min=0), atol=1e-5)
    assert torch.allclose(effect.pooled, torch.nn.functional.max_pool2d(expected.clamp(min=0)[None], 2)[0], atol=1e-5)
    assert filter_effect(image, kernel, "same").convolved.shape == (28, 28)


def test_max_pool_keeps_the_largest_of_each_window():
    feature = torch.arange(16.0).reshape(4, 4)
    steps = pool_steps(feature)
    assert [step.largest for step in steps] == [5.0, 7.0, 13.0, 15.0]
    assert torch.equal(max_pool(feature), torch.nn.functional.max_pool2d(feature[None], 2)[0])


def test_a_learned_filter_is_named_after_the_classic_kernel_it_resembles():
    noise = torch.randn(3, 3, generator=torch.Generator().manual_seed(1)) * 0.05
    assert closest_classic(3.7 * CLASSIC_KERNELS["horizontal_edges"] + noise)[:1] == ("horizontal_edges",)
    name, similarity, sign = closest_classic(-CLASSIC_KERNELS["vertical_edges"])
    assert (name, sign) == ("vertical_edges", -1) and similarity == pytest.approx(1.0)


def test_a_crop_is_whole_numbers_within_the_image_and_typed_kernels_are_checked():
    image = torch.linspace(0, 1, 784).reshape(28, 28)
    piece = crop(image, top=25, left=-3)  # asked past the edges: moved inside
    assert piece.shape == (7, 7) and piece.min() >= 0 and piece.max() <= 9 and torch.equal(piece, piece.round())
    assert checked_kernel([0, 0, 0, 0, 1, 0, 0, 0, 0]).tolist() == CLASSIC_KERNELS["identity"].tolist()
    for wrong in ([1] * 8, [100] + [0] * 8):
        with pytest.raises(ValueError):
            checked_kernel(wrong)
