"""AppTest for Build & train: widgets, presets, links, training in the background and its messages. Real widgets,
real run store, real (small) training."""
import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP, SMALL_CNN, app, markdown_text, teacher_app, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.kinds.cnn import CNNSpec
from fmnist_core.presets import PRESETS
from fmnist_core.runs import train_run
from fmnist_core.specs import RunSpec, TrainConfig
from fmnist_ui import state
from fmnist_ui.widgets import spec_to_state

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def test_default_page_shows_architecture_and_train_button():
    at = app()
    assert not at.exception
    assert at.header[0].value == "Build & train"
    table = at.table[0].value.reset_index()
    assert list(table["Layer"]) == ["Conv 1", "Max pool 1", "Conv 2", "Max pool 2", "Flatten", "Dense", "Output"]
    assert "113,386" in markdown_text(at)
    assert any(button.label == "Train" for button in at.button)


def test_widgets_change_the_spec():
    at = app()
    at.slider(key="conv_layers").set_value(1).run()
    table = at.table[0].value.reset_index()
    assert list(table["Layer"])[:3] == ["Conv 1", "Max pool 1", "Flatten"]
    assert table["Output"].iloc[2] == "5408"
    at.select_slider(key="filters_1").set_value(64).run()
    assert at.table[0].value.reset_index()["Output"].iloc[0] == "64×26×26"


def test_same_padding_keeps_the_map_size_and_lets_four_conv_layers_fit():
    at = app(conv_layers=4, kernel_size=7)
    assert at.error and not any(button.label == "Train" for button in at.button)
    at.radio(key="padding").set_value("same").run()
    assert not at.exception and not at.error
    table = at.table[0].value.reset_index()
    assert table["Output"].iloc[0] == "32×28×28"
    assert any(button.label == "Train" for button in at.button)
    at.radio(key="kernel_size").set_value(3).run()
    at.slider(key="conv_layers").set_value(2).run()
    # The seed CNN with "same" padding: the dense layer sees 32 × 7 × 7 numbers instead of 32 × 5 × 5.
    assert at.table[0].value.reset_index()["Output"].iloc[4] == "1568"
    assert f"{211_690:,}" in markdown_text(at)


def test_preset_button_loads_the_keras_cnn():
    at = app()
    at.button(key="preset_seed-keras-cnn").click().run()
    assert at.session_state["filters_1"] == 64 and at.session_state["batch_size"] == 32
    assert f"{243_786:,}" in markdown_text(at)


def test_impossible_architecture_shows_the_reason_instead_of_train():
    at = app(conv_layers=4, kernel_size=7)
    assert not at.exception
    assert at.error and "conv layer" in at.error[0].value
    assert not any(button.label == "Train" for button in at.button)


def test_out_of_range_session_values_are_brought_back_into_range():
    at = app(lr=-5.0, batch_size=10**6, filters_1=1000)
    assert not at.exception
    assert at.session_state["lr"] == 1e-4 and at.session_state["batch_size"] == 1024
    assert at.session_state["filters_1"] == 64


def test_finished_run_shows_its_curve_data_marked_cached(isolated_home, small_data):
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app(**spec_to_state(SMALL_CNN))
    assert not at.exception
    assert any("cache" in element.value for element in at.success)
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    validation = [trace for trace in figure["data"] if trace.get("name") == "validation (test set)"][0]
    assert validation["x"] == [1, 2] and all(0.5 < value < 1 for value in validation["y"])


@pytest.mark.slow
def test_train_button_runs_a_background_job_until_done():
    run = tiny_mlp_run(epochs=1)
    at = app(**spec_to_state(run))
    [train] = [button for button in at.button if button.label == "Train"]
    train.click().run()
    store = state.store()
    deadline = time.time() + 120
    while store.get(run.key).status != "done" and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert store.get(run.key).status == "done"
    assert any("Finished" in element.value for element in at.success)


def test_switching_language_changes_labels():
    at = app()
    at.radio(key="lang").set_value("es").run()
    assert at.header[0].value == "Construir y entrenar"
    assert any(button.label == "Entrenar" for button in at.button)
    spanish = app(lang="es")
    assert spanish.header[0].value == "Construir y entrenar"


def test_every_preset_is_representable_by_the_widgets():
    from fmnist_ui.widgets import spec_from_state

    for name, run in PRESETS.items():
        at = app()
        at.button(key=f"preset_{name}").click().run()
        assert not at.exception and not at.error, name
        # Exactly the preset, not its nearest slider steps: the grid precomputed from a preset must be the run
        # that the Train button asks for.
        assert spec_from_state(at.session_state).key == run.key, name


def test_missing_dataset_explains_how_to_install_it(tmp_path, monkeypatch):
    from fmnist_core import data as data_module

    monkeypatch.setattr(data_module, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data_module, "TORCHVISION_ROOT", tmp_path / "tv")
    monkeypatch.setenv("FMNIST_NO_DOWNLOAD", "1")
    data_module.get_dataset.cache_clear()
    try:
        at = app()
        assert not at.exception
        assert "could not be loaded" in at.error[0].value
        assert "dataset-fashion-mnist" in at.code[0].value and "FMNIST_DATA_DIR" in at.code[0].value
        assert not at.header  # no page is run without data
    finally:
        data_module.get_dataset.cache_clear()


def test_locked_run_store_gives_a_message_not_a_traceback(isolated_home, small_data):
    import sqlite3

    store = open_store(isolated_home)
    train_run(tiny_mlp_run(epochs=1), store, isolated_home, data=small_data)
    at = app()
    state.store().timeout = 0.2
    locker = sqlite3.connect(store.path)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        at.button(key="preset_fast-cnn").click().run()
        [train] = [button for button in at.button if button.label == "Train"]
        train.click().run()
        assert not at.exception
        assert any("run store" in element.value for element in at.error)
    finally:
        locker.rollback()
        locker.close()


@pytest.mark.slow
def test_stop_button_cancels_the_running_job_and_keeps_finished_epochs():
    run = RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=30, lr=3e-3))
    at = app(**spec_to_state(run))
    [train] = [button for button in at.button if button.label == "Train"]
    train.click().run()
    store = state.store()
    deadline = time.time() + 120
    while not store.get(run.key).history and time.time() < deadline:
        time.sleep(0.3)
    at.run()
    assert store.get(run.key).status == "running"
    assert any("Epoch 1/30" in element.value for element in at.caption)
    [stop] = [button for button in at.button if button.label == "Stop"]
    stop.click().run()
    while store.get(run.key).status == "running" and time.time() < deadline:
        time.sleep(0.3)
    at.run()
    record = store.get(run.key)
    assert record.status == "cancelled" and 1 <= len(record.history) < 30
    assert any("Stopped after" in element.value for element in at.warning)
    labels = [button.label for button in at.button]
    assert f"Resume from epoch {len(record.history)}" in labels and "Restart from scratch" in labels


def test_a_link_with_a_spec_opens_that_model_and_a_bad_one_explains():
    from fmnist_ui.share import encode_run

    shared = RunSpec(CNNSpec(conv_channels=(16, 64, 32), kernel_size=3, padding=1, dense=64),
                     TrainConfig(epochs=7, batch_size=64, optimizer="sgd", lr=1e-2))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["spec"] = encode_run(shared)
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["conv_layers"] == 3 and at.session_state["filters_2"] == 64
    assert at.session_state["padding"] == "same"
    assert at.table[0].value.reset_index()["Output"].iloc[0] == "16×28×28"
    assert at.session_state["optimizer"] == "sgd" and at.session_state["epochs"] == 7
    assert list(at.table[0].value.reset_index()["Layer"])[:6] == ["Conv 1", "Max pool 1", "Conv 2", "Max pool 2",
                                                                  "Conv 3", "Max pool 3"]

    impossible = RunSpec(CNNSpec(conv_channels=(8,) * 4, kernel_size=7), TrainConfig())
    for bad in (encode_run(impossible), "not-base64!!", "e30"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["spec"] = bad
        at.run()
        assert not at.exception
        assert "cannot be used" in at.error[0].value, bad
        assert at.session_state["conv_layers"] == 2  # the default model, nothing lost


def test_a_student_watching_someone_elses_job_can_stop_watching_and_the_teacher_can_stop_it():
    """#14.6: B joined A's job and pressed Stop: A's run stopped and A was not told why."""
    run = RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=30, lr=3e-3, seed=7))
    student_a = app(**spec_to_state(run))
    [train] = [button for button in student_a.button if button.label == "Train"]
    train.click().run()
    store = state.store()
    assert store.get(run.key).status in ("queued", "running")
    student_b = app(**spec_to_state(run))
    labels = [button.label for button in student_b.button]
    assert "Stop" not in labels and "Stop watching" in labels
    assert any("only they or the teacher can stop it" in element.value for element in student_b.caption)
    [leave] = [button for button in student_b.button if button.label == "Stop watching"]
    leave.click().run()
    assert any("You stopped watching" in element.value for element in student_b.info)
    assert store.get(run.key).status in ("queued", "running")  # A's job goes on
    teacher = teacher_app(**spec_to_state(run))
    [stop] = [button for button in teacher.button if button.label == "Stop"]
    stop.click().run()
    deadline = time.time() + 60
    while store.get(run.key).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.3)
    student_a.run()
    record = store.get(run.key)
    assert record.status == "cancelled" and record.stopped_by == "teacher", (record.status, record.error)
    assert any("The teacher stopped it." in element.value for element in student_a.warning), student_a.warning


def test_after_a_run_its_best_accuracy_is_a_big_number_with_the_change_against_the_previous(isolated_home,
                                                                                             small_data):
    store = open_store(isolated_home)
    first, second = tiny_mlp_run(epochs=1), SMALL_CNN
    for run in (first, second):
        train_run(run, store, isolated_home, data=small_data)
    at = app(**spec_to_state(first))
    [metric] = at.metric
    best_first = store.get(first.key).best.val_acc
    assert metric.value == f"{best_first * 100:.2f}%" and not metric.delta
    assert any("Finished: 1 epoch in" in element.value for element in at.success)
    for name, value in spec_to_state(second).items():
        at.session_state[name] = value
    at.run()
    [metric] = at.metric
    change = (store.get(second.key).best.val_acc - best_first) * 100
    assert metric.delta == f"{'+' if change >= 0 else ''}{change:.2f} points against your previous run"
    spanish = app("es", **spec_to_state(second))
    assert spanish.metric[0].value == f"{store.get(second.key).best.val_acc * 100:.2f}\u00a0%".replace(".", ",")
    assert any("Terminado: 2 épocas en" in element.value for element in spanish.success)


def test_a_run_that_shared_the_cpu_is_flagged():
    from fmnist_core.runstore import RunRecord, concurrent_runs

    def record(key, started, finished, backend="local"):
        return RunRecord(key=key, run=SMALL_CNN, summary="", model_kind="cnn", params=1, status="done", device="cpu",
                         owner=None, pid=None, error=None, created_at=0.0, started_at=started, finished_at=finished,
                         backend=backend)

    mine = record("a" * 16, 10.0, 20.0)
    others = [record("b" * 16, 0.0, 11.0), record("c" * 16, 19.0, None), record("d" * 16, 20.0, 30.0),
              record("e" * 16, 12.0, 13.0, backend="ray")]
    assert concurrent_runs(mine, [mine, *others]) == 2  # b overlaps the start, c is still running; d starts after


def test_the_sgd_notebook_preset_says_the_optimizer_holds_it_back():
    at = app(**spec_to_state(PRESETS["seed-pytorch-mlp"]))
    assert any("The optimizer holds it back" in element.value for element in at.info)
    at = app(**spec_to_state(PRESETS["seed-keras-mlp"]))
    assert not any("optimizer holds it back" in element.value for element in at.info)


def test_a_running_epoch_shows_how_many_images_are_done(isolated_home):
    import os

    run = tiny_mlp_run(epochs=2)
    store = open_store(isolated_home)
    store.queue(run, 1000, owner="someone")
    store.mark_running(run.key, "cpu", os.getpid())
    store.set_epoch_images(run.key, 30000)
    at = app(**spec_to_state(run))
    assert not at.exception
    [bar] = at.get("progress")
    assert "epoch 1 of 2: 30,000 of 60,000 images" in bar.proto.text
    assert bar.proto.value == 25  # half of the first of two epochs
    store.finish(run.key, "cancelled")


def test_switching_to_the_mlp_shows_two_hidden_layers_of_128():
    at = app()
    at.radio(key="model_kind").set_value("mlp").run()
    assert not at.exception
    assert [(slider.label, slider.value) for slider in at.select_slider if slider.key.startswith("hidden_")] == [
        ("Neurons in hidden layer 1", 128), ("Neurons in hidden layer 2", 128)]
