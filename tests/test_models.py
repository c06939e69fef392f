import pytest
import torch

from fmnist_core.activations import capture_outputs, feature_maps
from fmnist_core.models import build_model, conv_kernels, with_filters_off
from fmnist_core.presets import PRESETS
from fmnist_core.training import as_input

EXPECTED_PARAMS = {
    "seed-pytorch-mlp": 784 * 64 + 64 + 64 * 128 + 128 + 128 * 10 + 10,
    "seed-pytorch-cnn": 113_386,
    "seed-keras-mlp": 784 * 128 + 128 + 1290,
    "seed-keras-cnn": 640 + 36_928 + 1600 * 128 + 128 + 1290,
    "fast-cnn": 113_386,
    "fast-cnn-long": 211_690,
    "overfitting": 113_386,
}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_with_expected_shapes(name, data):
    model = build_model(PRESETS[name].model)
    assert model.param_count == EXPECTED_PARAMS[name]
    assert sum(layer.params for layer in model.layers) == model.param_count
    images = as_input(data.test_images[:3])
    probabilities, maps = feature_maps(model, images)
    assert probabilities.shape == (3, 10)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(3))
    assert set(maps) == {layer.name for layer in model.feature_layers}
    for layer in model.feature_layers:
        assert tuple(maps[layer.name].shape) == (3, *layer.output_shape), layer.name


def test_seed_cnn_layers_match_the_notebook():
    model = build_model(PRESETS["seed-pytorch-cnn"].model)
    shapes = [(layer.name, layer.output_shape) for layer in model.layers]
    assert shapes == [
        ("conv1", (32, 26, 26)), ("pool1", (32, 13, 13)), ("conv2", (32, 11, 11)), ("pool2", (32, 5, 5)),
        ("flatten", (800,)), ("dense", (128,)), ("output", (10,)),
    ]


def test_captured_maps_equal_layers_computed_directly(data):
    model = build_model(PRESETS["seed-pytorch-cnn"].model)
    module = model.module
    images = as_input(data.test_images[[0, 7, 26]])
    _, maps = feature_maps(model, images)
    with torch.no_grad():
        conv1 = torch.relu(module.conv1(images))
        pool1 = torch.nn.functional.max_pool2d(conv1, 2)
        conv2 = torch.relu(module.conv2(pool1))
        pool2 = torch.nn.functional.max_pool2d(conv2, 2)
    for name, expected in (("conv1", conv1), ("pool1", pool1), ("conv2", conv2), ("pool2", pool2)):
        assert torch.allclose(maps[name], expected, atol=1e-6), name


def test_hooks_are_removed_even_on_error():
    model = build_model(PRESETS["seed-pytorch-cnn"].model)
    with pytest.raises(RuntimeError):
        with capture_outputs(model.module, ["conv1", "conv2"]):
            model.module(torch.zeros(1, 3, 28, 28))  # wrong channel count
    assert all(not module._forward_hooks for module in model.module.modules())


def test_filters_off_zeroes_their_maps_in_a_copy_only(data):
    torch.manual_seed(0)
    model = build_model(PRESETS["seed-pytorch-cnn"].model)
    images = as_input(data.test_images[:2])
    weights_before = conv_kernels(model, "conv1").clone()
    probabilities_before, maps_before = feature_maps(model, images)
    responding = [index for index in range(32) if maps_before["conv1"][:, index].abs().sum() > 0][:2]
    assert len(responding) == 2
    switched = with_filters_off(model, {"conv1": responding})
    probabilities_off, maps = feature_maps(switched, images)
    assert maps["conv1"][:, responding].abs().sum() == 0
    assert maps["pool1"][:, responding].abs().sum() == 0
    others = [index for index in range(32) if index not in responding]
    assert torch.equal(maps["conv1"][:, others], maps_before["conv1"][:, others])
    assert not torch.equal(probabilities_off, probabilities_before)
    probabilities_after, maps_after = feature_maps(model, images)
    assert torch.equal(probabilities_after, probabilities_before)
    assert torch.equal(conv_kernels(model, "conv1"), weights_before)


def test_kernels_shape():
    model = build_model(PRESETS["seed-keras-cnn"].model)
    assert tuple(conv_kernels(model, "conv2").shape) == (64, 64, 3, 3)


def test_strongest_filters_name_the_filter_and_where_it_peaks():
    from fmnist_core.images import strongest_filters

    maps = torch.zeros(4, 9, 9)
    maps[2, 0, 8] = 9.0  # filter 2: strongest, peaking top-right
    maps[1, 8, 0] = 4.0  # filter 1: next, bottom-left
    maps[3, 4, 4] = 1.0  # filter 3: centre
    assert [(channel, region) for channel, _, region in strongest_filters(maps)] == [
        (2, "top-right"), (1, "bottom-left"), (3, "centre")]


def test_which_specs_have_filters_to_look_at_is_asked_of_the_built_model_not_its_kind_name():
    from fmnist_core.kinds.cnn import CNNSpec
    from fmnist_core.kinds.mlp import MLPSpec
    from fmnist_core.models import has_conv_layers

    assert has_conv_layers(CNNSpec(conv_channels=(8,), dense=32))
    assert not has_conv_layers(MLPSpec(hidden=(32,)))
