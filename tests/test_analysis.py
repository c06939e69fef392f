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
