"""Where the model looked (issue #24): heat maps from occlusion and Grad-CAM, checked on models built to look at one
corner, and on a real trained CNN."""
import pytest
import torch

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.models import build_model
from fmnist_core.saliency import grad_cam, heat_summary, occlusion_map


def corner_image() -> torch.Tensor:
    image = torch.zeros(1, 28, 28)
    image[0, :8, :8] = 1.0  # something in the top-left corner
    image[0, 18:, 18:] = 1.0  # and something in the bottom-right the model ignores
    return image


def mlp_that_reads_the_top_left_corner():
    """The MLP of a spec, its first layer blind to every pixel but the top-left 8×8: only class 3 reacts."""
    model = build_model(tiny_mlp_run().model)
    with torch.no_grad():
        for parameter in model.module.parameters():
            parameter.zero_()
        linears = [module for module in model.module.modules() if isinstance(module, torch.nn.Linear)]
        first, last = linears[0], linears[-1]
        mask = torch.zeros(28, 28)
        mask[:8, :8] = 1
        first.weight[0] = mask.flatten()
        last.weight[3, 0] = 0.1  # not saturated: hiding part of the corner moves the probability
    return model


def cnn_that_reads_the_top_left_corner():
    """A CNN of one 3×3 identity filter, its dense layer reading only the top-left of the pooled map."""
    model = build_model(tiny_cnn_run().model)  # conv 8 filters → pool → dense 32 → 10
    module = model.module
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.zero_()
        conv = module.get_submodule(model.conv_layers[0].hook_module)
        conv.weight[0, 0, 1, 1] = 1.0
        linears = [layer for layer in module.modules() if isinstance(layer, torch.nn.Linear)]
        pooled = model.feature_layers[-1].output_shape  # (8, 13, 13)
        mask = torch.zeros(pooled)
        mask[0, :4, :4] = 1.0
        linears[0].weight[0] = mask.flatten()
        linears[-1].weight[3, 0] = 0.3
    return model


@pytest.mark.parametrize("build", [mlp_that_reads_the_top_left_corner, cnn_that_reads_the_top_left_corner])
def test_occlusion_lights_up_the_corner_the_model_looks_at(build):
    heat = occlusion_map(build(), corner_image(), target=3)
    assert heat.shape == (28, 28) and heat.max() == pytest.approx(1.0)
    assert heat[:8, :8].mean() > 0.3 and heat[18:, 18:].max() == 0  # the ignored square counts for nothing
    region, area = heat_summary(heat)
    assert region == "top-left" and area < 0.2


def striped_image() -> torch.Tensor:
    """Vertical stripes in the top-left corner, horizontal stripes in the bottom-right one."""
    image = torch.zeros(1, 28, 28)
    for offset in (0, 1, 4, 5):  # stripes two pixels wide: an edge filter sees their sides
        image[0, 2:10, 2 + offset] = 1.0
        image[0, 18 + offset, 18:26] = 1.0
    return image


def cnn_that_looks_for_vertical_stripes():
    """A CNN whose filter 0 finds vertical edges, filter 1 horizontal ones; only filter 0 counts for class 3.
    Grad-CAM weighs whole maps, so this is a model that looks at what one corner holds."""
    model = build_model(tiny_cnn_run().model)
    module = model.module
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.zero_()
        conv = module.get_submodule(model.conv_layers[0].hook_module)
        conv.weight[0, 0] = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
        conv.weight[1, 0] = conv.weight[0, 0].T
        linears = [layer for layer in module.modules() if isinstance(layer, torch.nn.Linear)]
        mask = torch.zeros(model.feature_layers[-1].output_shape)
        mask[0] = 1.0
        linears[0].weight[0] = mask.flatten() * 0.05
        linears[-1].weight[3, 0] = 1.0
    return model


def test_grad_cam_lights_up_what_the_model_looks_at_and_needs_a_conv_layer():
    heat = grad_cam(cnn_that_looks_for_vertical_stripes(), striped_image(), target=3)
    assert heat.shape == (28, 28) and heat.max() == pytest.approx(1.0)
    assert heat[:12, :12].mean() > 3 * heat[16:, 16:].mean()  # only the square's right side, where stripes end
    assert heat_summary(heat)[0] == "top-left"
    with pytest.raises(ValueError, match="conv layer"):
        grad_cam(mlp_that_reads_the_top_left_corner(), corner_image(), target=3)


def test_heat_maps_of_a_trained_cnn_sit_on_the_garment_not_the_background(small_data, isolated_home):
    from fmnist_core.cache import open_store
    from fmnist_core.runs import load_run_checkpoint, train_run
    from fmnist_core.training import as_input

    record = train_run(tiny_cnn_run(epochs=1), open_store(isolated_home), isolated_home, data=small_data).record
    model = load_run_checkpoint(isolated_home, record.key).model
    image = as_input(small_data.test_images[:1])[0]  # an ankle boot
    garment = image[0] > 0.1
    for heat in (occlusion_map(model, image, target=9), grad_cam(model, image, target=9)):
        assert heat[garment].mean() > heat[~garment].mean()  # hiding the boot matters more than hiding the floor


def test_grad_cam_while_another_student_predicts_with_the_same_model():
    """Review of #24: the hook fired in other sessions' forward passes (under inference_mode) and broke them."""
    import threading

    model = cnn_that_looks_for_vertical_stripes()
    errors, stop = [], threading.Event()

    def predict():
        while not stop.is_set():
            try:
                with torch.inference_mode():
                    model.module(striped_image().unsqueeze(0))
            except Exception as error:  # noqa: BLE001 - what the other student's page would show
                errors.append(error)

    other = threading.Thread(target=predict)
    other.start()
    try:
        for _ in range(30):
            grad_cam(model, striped_image(), target=3)
    finally:
        stop.set()
        other.join()
    assert errors == []
