import pytest
import torch

from fmnist_core.analysis import confusion_matrix, per_class_accuracy, predict_classes, worst_confusion
from fmnist_core.models import build_model
from fmnist_core.presets import PRESETS


def test_confusion_matrix_counts_and_accuracy():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    predicted = torch.tensor([0, 1, 1, 1, 0, 2])
    matrix = confusion_matrix(labels, predicted, classes=3)
    assert matrix.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert per_class_accuracy(matrix).tolist() == [0.5, 2 / 3, 1.0]
    assert worst_confusion(torch.tensor([[5, 1, 7], [0, 5, 0], [2, 0, 5]])) == (0, 2)


def test_predictions_agree_with_the_model_on_real_images(data):
    spec = PRESETS["seed-pytorch-cnn"].model
    model = build_model(spec)
    images = data.test_images[:300]
    predicted = predict_classes(model, images, spec, batch_size=128)
    with torch.no_grad():
        direct = model.module(images.unsqueeze(1).float() / 255).argmax(dim=1)
    assert torch.equal(predicted, direct)
    assert confusion_matrix(data.test_labels[:300], predicted).sum() == 300


def test_switching_filters_off_measures_a_copy_and_leaves_the_model_alone(data):
    from fmnist_core.analysis import accuracy_with_filters_off
    from fmnist_core.training import evaluate, memory_format_for

    spec = PRESETS["seed-pytorch-cnn"].model
    model = build_model(spec)
    images, labels = data.test_images[:500], data.test_labels[:500]
    before = [tensor.clone() for tensor in model.module.parameters()]
    everything_off = accuracy_with_filters_off(model, spec, images, labels, {"conv1": list(range(32))})
    untouched = evaluate(model.module.to(memory_format=memory_format_for(spec)), images, labels,
                         memory_format=memory_format_for(spec))[1]
    assert accuracy_with_filters_off(model, spec, images, labels, {}) == untouched
    # every filter of the first layer off: every image gives the same logits, so one class is predicted for all
    assert any(everything_off == pytest.approx((labels == label).float().mean().item()) for label in range(10))
    assert all(torch.equal(a, b) for a, b in zip(before, model.module.parameters(), strict=True))
