import dataclasses

import pytest

from fmnist_core.specs import CNNSpec, MLPSpec, RunSpec, SpecError, TrainConfig, run_from_json, validate


def test_key_is_stable_and_sensitive():
    run = RunSpec(CNNSpec(), TrainConfig())
    assert run.key == RunSpec(CNNSpec(conv_channels=(32, 32)), TrainConfig()).key
    assert len(run.key) == 16
    assert run.key != RunSpec(CNNSpec(conv_channels=(16, 32)), TrainConfig()).key
    assert run.key != RunSpec(CNNSpec(), TrainConfig(epochs=9)).key


def test_device_preference_is_not_part_of_the_key():
    assert RunSpec(CNNSpec(), TrainConfig(device="cpu")).key == RunSpec(CNNSpec(), TrainConfig()).key


def test_canonical_json_round_trip():
    run = RunSpec(MLPSpec(hidden=(64, 128)), TrainConfig(optimizer="sgd", lr=1e-3))
    again = run_from_json(run.canonical_json())
    assert again == run and again.key == run.key


@pytest.mark.parametrize("model, message", [
    (CNNSpec(conv_channels=(32, 32, 32, 32)), "conv layer 4"),
    (CNNSpec(conv_channels=(8, 8), kernel_size=13), "conv layer 2"),
    (CNNSpec(conv_channels=()), "at least one conv layer"),
    (CNNSpec(conv_channels=(0,)), "conv layer 1 filters"),
    (CNNSpec(dense=10**6), "dense width"),
    (MLPSpec(hidden=()), "at least one hidden layer"),
])
def test_impossible_models_say_which_layer_and_why(model, message):
    with pytest.raises(SpecError, match=message):
        validate(RunSpec(model, TrainConfig()))


def test_too_deep_cnn_message_is_plain():
    with pytest.raises(SpecError) as caught:
        validate(RunSpec(CNNSpec(conv_channels=(16,) * 4), TrainConfig()))
    assert "0×0" in str(caught.value) or "does not fit" in str(caught.value)


@pytest.mark.parametrize("changes, message", [
    ({"lr": 0.0}, "learning rate"), ({"lr": -1e-3}, "learning rate"), ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch size"), ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_training_config(changes, message):
    with pytest.raises(SpecError, match=message):
        validate(RunSpec(CNNSpec(), dataclasses.replace(TrainConfig(), **changes)))


def test_three_conv_layers_of_3x3_are_valid():
    validate(RunSpec(CNNSpec(conv_channels=(16, 32, 64)), TrainConfig()))
