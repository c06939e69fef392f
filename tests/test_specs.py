import dataclasses

import pytest

from fmnist_core.kinds.cnn import CNNSpec
from fmnist_core.kinds.mlp import MLPSpec
from fmnist_core.specs import RunSpec, SpecError, TrainConfig, run_from_json, validate


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
    (CNNSpec(conv_channels=(8, 8, 8), kernel_size=7), "conv layer 3"),
    (CNNSpec(conv_channels=()), "at least one conv layer"),
    (CNNSpec(conv_channels=(0,)), "conv layer 1 filters"),
    (CNNSpec(dense=10**6), "dense width"),
    (CNNSpec(conv_channels=(12,)), "conv layer 1 filters"),
    (MLPSpec(hidden=()), "at least one hidden layer"),
])
def test_impossible_models_say_which_layer_and_why(model, message):
    with pytest.raises(SpecError, match=message):
        validate(RunSpec(model, TrainConfig()))


def test_too_deep_cnn_message_is_plain():
    with pytest.raises(SpecError) as caught:
        validate(RunSpec(CNNSpec(conv_channels=(16,) * 4), TrainConfig()))
    assert str(caught.value) == ("conv layer 4: a 3×3 kernel does not fit its 1×1 input (output would be -1×-1); "
                                 "remove a layer, use a smaller kernel or add padding")


@pytest.mark.parametrize("changes, message", [
    ({"lr": 0.0}, "learning rate"), ({"lr": -1e-3}, "learning rate"), ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch size"), ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_training_config(changes, message):
    with pytest.raises(SpecError, match=message):
        validate(RunSpec(CNNSpec(), dataclasses.replace(TrainConfig(), **changes)))


def test_three_conv_layers_of_3x3_fit_and_end_on_a_one_pixel_map():
    from fmnist_core.kinds.cnn import conv_output_sizes
    from fmnist_core.models import build_model

    spec = CNNSpec(conv_channels=(16, 32, 64))
    validate(RunSpec(spec, TrainConfig()))
    assert conv_output_sizes(spec) == [(26, 13), (11, 5), (3, 1)]
    flatten = next(layer for layer in build_model(spec).layers if layer.kind == "flatten")
    assert flatten.output_shape == (64,)  # 64 filters of 1×1


# Every limit lives in specs.py (training) or its kind's module (the model); links, model files, widgets and the
# CLI all go through these parsers.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fmnist_core.kinds import cnn, mlp  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELD_NAMES = ("kind", "conv_channels", "kernel_size", "padding", "pool", "dense", "hidden", "epochs", "batch_size",
               "optimizer", "lr", "seed", "shuffle", "schedule", "label_smoothing")


@st.composite
def spec_like_dicts(draw):
    """Dicts shaped like a run spec whose fields hold any JSON value: the inputs that reach the typed parsers."""
    model = draw(st.dictionaries(st.sampled_from(FIELD_NAMES[:7]), json_values, max_size=7))
    if draw(st.booleans()):
        model["kind"] = draw(st.sampled_from(["cnn", "mlp"]))
    train = draw(st.dictionaries(st.sampled_from(FIELD_NAMES[7:]), json_values, max_size=8))
    return {"model": model, "train": train}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, spec_like_dicts()))
def test_any_json_value_is_a_spec_or_a_spec_error(value):
    import json
    import math

    def has_nan(item):
        return (isinstance(item, float) and not math.isfinite(item)) or (
            isinstance(item, list) and any(map(has_nan, item))) or (
            isinstance(item, dict) and any(map(has_nan, item.values())))

    text = json.dumps(value)  # Infinity and NaN as JavaScript writes them
    try:
        run = run_from_json(text)
    except SpecError:
        return
    assert not has_nan(value)
    validate(run)
    assert run_from_json(run.canonical_json()) == run


@pytest.mark.parametrize("text", [
    "[" * 50_000 + "]" * 50_000,  # RecursionError inside json
    '{"model": {"kind": "cnn", "conv_channels": [32], "kernel_size": 1e400, "dense": 128}, "train": {}}',
    '{"model": {"kind": "cnn", "conv_channels": [32], "kernel_size": Infinity, "dense": 128}, "train": {}}',
    '{"model": {"kind": "cnn", "conv_channels": 32, "kernel_size": 3, "dense": 128}, "train": {}}',
    '{"model": [], "train": []}', '{"model": {"kind": "mlp", "hidden": [64]}, "train": 7}',
    '{"model": {"kind": "mlp", "hidden": [64]}, "train": {"shuffle": "yes"}}',
    '{"model": {"kind": "mlp", "hidden": [64]}, "train": {"epochs": 8.5}}',
    '{"model": {"kind": "mlp", "hidden": [true]}, "train": {}}',
    '{"model": {"kind": "mlp", "hidden": [64]}, "train": {"lr": "0.001"}}',
    '{"model": {"kind": "cnn", "conv_channels": [' + "9" * 5000 + '], "kernel_size": 3, "dense": 128}, "train": {}}',
])
def test_hostile_spec_json_is_a_spec_error(text):
    with pytest.raises(SpecError):
        run_from_json(text)


@pytest.mark.parametrize("model, train", [
    # the core's old limits, each past what a widget can show: refused now, as the page cannot show them
    ({"conv_channels": (512,), "kernel_size": 3, "pool": 2, "dense": 4096}, {}),
    ({"conv_channels": (32,), "kernel_size": 1, "pool": 1, "dense": 128}, {}),
    ({"conv_channels": (32,) * 5, "kernel_size": 3, "padding": 1, "dense": 128}, {}),
    ({"conv_channels": (32,), "kernel_size": 5, "padding": 1, "dense": 128}, {}),
    ({}, {"epochs": 31}), ({}, {"label_smoothing": 0.35}), ({}, {"lr": 0.05}), ({}, {"batch_size": 100}),
])
def test_values_no_widget_can_show_are_refused(model, train):
    with pytest.raises(SpecError):
        validate(RunSpec(dataclasses.replace(CNNSpec(), **model), dataclasses.replace(TrainConfig(), **train)))
    with pytest.raises(SpecError):
        validate(RunSpec(MLPSpec(hidden=(64,) * (mlp.HIDDEN_LAYER_RANGE[1] + 1)), TrainConfig()))


def largest_models():
    """The models at the limits with the most weights: the widest maps into the widest dense layer."""
    for kernel in cnn.KERNEL_CHOICES:
        for mode in cnn.PADDING_MODES:
            yield CNNSpec(conv_channels=(max(cnn.FILTER_CHOICES),), kernel_size=kernel,
                          padding=cnn.padding_for(mode, kernel), dense=max(cnn.DENSE_CHOICES))
    yield MLPSpec(hidden=(max(mlp.HIDDEN_CHOICES),) * mlp.HIDDEN_LAYER_RANGE[1])


def test_every_model_within_the_limits_fits_a_model_file():
    from fmnist_core.models import build_model
    from fmnist_core.transfer import MAX_MODEL_BYTES

    largest = max(build_model(model).param_count for model in largest_models())
    assert 4 * largest < MAX_MODEL_BYTES


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600) | st.builds(
    lambda value: __import__("base64").urlsafe_b64encode(__import__("json").dumps(value).encode()).decode(),
    spec_like_dicts()))
def test_any_share_link_text_is_a_spec_or_the_links_own_refusal(text):
    from fmnist_ui.share import decode_run, encode_run

    try:
        run = decode_run(text)
    except SpecError:
        return
    assert decode_run(encode_run(run)) == run


def test_every_registered_model_kind_is_complete_and_an_unknown_one_is_refused_by_name():
    from fmnist_core.kinds import MODEL_KINDS
    from fmnist_core.specs import model_from_dict
    from fmnist_ui.i18n import english_text

    assert list(MODEL_KINDS) == ["cnn", "mlp"]
    for name, kind in MODEL_KINDS.items():
        assert kind.spec().kind == name
        assert kind.from_state(kind.to_state(kind.spec())) == kind.spec()  # the widgets show and rebuild it
        for key in (f"kind_{name}", f"label_{name}", f"family_{name}",
                    *(f"control_{control.name}" for control in kind.controls)):
            assert english_text(key)
    with pytest.raises(SpecError, match="unknown model kind 'rnn' \\(expected one of: cnn, mlp\\)"):
        model_from_dict({"kind": "rnn", "hidden": [32]})
