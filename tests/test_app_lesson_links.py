"""AppTest for lesson links, MLP vs CNN, resume and model files (teacher mode and classes: test_app_classes.py)."""

import pytest

from conftest import app, tiny_cnn_run, tiny_mlp_run, wait_until_done
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run
from fmnist_ui import state
from fmnist_ui.widgets import spec_to_state

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def test_a_lesson_link_locks_and_hides_controls_for_students():
    at = app(query={"lock": "epochs,optimizer,nonsense", "hide": "advanced,presets"})
    assert not at.exception
    assert at.slider(key="epochs").disabled and at.radio(key="optimizer").disabled
    assert not at.select_slider(key="lr").disabled
    assert not any(expander.label == "Advanced settings" for expander in at.expander)
    assert not any(button.key and button.key.startswith("preset_") for button in at.button)
    assert not any(expander.label == "Teacher mode" for expander in at.sidebar.expander)  # a student
    at.switch_page("app_pages/compare.py").run()
    at.switch_page("app_pages/train.py").run()
    assert at.slider(key="epochs").disabled  # the lesson survives page switches


@pytest.mark.slow
def test_an_interrupted_run_offers_resume_and_goes_on_from_its_last_epoch(isolated_home, small_data):
    run = tiny_mlp_run(epochs=3, seed=21)
    store = open_store(isolated_home)
    finished = []
    train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 1)
    at = app(**spec_to_state(run))
    assert "Stopped after 1 finished epoch." in at.warning[0].value  # one epoch, not "1 finished epochs"
    [resume] = [button for button in at.button if button.label == "Resume from epoch 1"]
    assert any(button.label == "Restart from scratch" for button in at.button)
    resume.click().run()
    assert wait_until_done([run.key])
    record = state.store().get(run.key)
    assert [metrics.epoch for metrics in record.history] == [1, 2, 3] and record.history[0] == finished[0]


def test_explore_offers_the_model_file_and_shows_an_upload_outcome(isolated_home, small_data):
    run = tiny_cnn_run(epochs=1)
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    [download] = at.get("download_button")
    assert download.proto.label == "Download this model (.pt)"
    at.session_state["model_upload_outcome"] = ("error", "not_model", "the file: unreadable or unsafe checkpoint")
    at.run()
    assert "This file cannot be used: it is not a model saved by this app" in at.error[0].value
    at.query_params["lang"] = "es"
    at.session_state["lang"] = "es"
    at.run()
    assert "no es un modelo guardado por esta aplicación" in at.error[0].value
