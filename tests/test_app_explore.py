"""AppTest for Explore: feature maps, filters switched off, mistakes, links, damaged checkpoints. Real widgets,
real run store, real (small) training."""
import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP, SMALL_CNN, app, grid_data, grid_tiles, markdown_text, press_tile, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def image_headings(at) -> list[str]:
    """Column headings (`column_heading`: level-4 markdown) on the page."""
    return [element.value.removeprefix("### ") for element in at.markdown if element.value.startswith("### ")]


def test_explore_shows_maps_for_each_conv_layer_and_follows_clicks(isolated_home, small_data):
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception
    assert "Test image #0" in image_headings(at)
    captions = markdown_text(at)
    for name in ("Conv 1 · 8 filters · 26×26", "Max pool 1 · 8 filters", "Conv 2 · 16 filters · 11×11", "Max pool 2"):
        assert name in captions
    press_tile(at, "gallery_buttons", [7, time.time()])
    assert "Test image #7" in image_headings(at)
    assert "True class: **Shirt**" in markdown_text(at)
    [bars] = [element.proto.body for element in at.get("html") if "<table" in element.proto.body]
    # the probabilities: a table of ten rows (class, bar, percentage), the true class's bar green
    assert bars.count('<th scope="row"') == 10 and bars.count("%</td>") == 10
    assert re.search(r'>Shirt</th><td aria-hidden="true"[^>]*><span[^>]*><span[^>]*background:#2ca02c', bars)
    [prediction] = [element.proto.body for element in at.get("html") if 'role="status"' in element.proto.body]
    assert "<strong>" in prediction and "aria-live=\"polite\"" in prediction
    at.select_slider(key=f"epoch_{SMALL_CNN.key}").set_value(1).run()
    assert not at.exception
    [earlier] = [element.proto.body for element in at.get("html") if "<table" in element.proto.body]
    assert earlier != bars  # epoch 1's weights answer, not the last epoch's


def test_explore_without_runs_says_how_to_get_one():
    at = app()
    at.switch_page("app_pages/explore.py").run()
    assert "No trained model yet" in at.info[0].value


def test_switching_filters_off_changes_maps_and_accuracy_but_not_the_checkpoint(isolated_home, small_data):
    from fmnist_core.runs import load_run_checkpoint

    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    at.multiselect(key=f"off_{SMALL_CNN.key}_conv1").set_value(list(range(8))).run()
    assert not at.exception
    assert any("8 filter(s) switched off" in element.value for element in at.warning)
    at.button(key="knockout_measure").click().run()
    line = [element.value for element in at.markdown if "with these filters off" in element.value][0]
    off, on = [float(number) for number in re.findall(r"([\d.]+)%", line)]
    assert off < 30 < on  # every conv1 filter off: the model is blind
    at.button(key="knockout_reset").click().run()
    assert not at.warning
    reloaded = load_run_checkpoint(isolated_home, SMALL_CNN.key)
    assert reloaded.model.module.conv1.weight.abs().sum() > 0


def test_mistakes_view_drills_down_to_an_image_and_opens_its_maps(isolated_home, small_data):
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    at.radio(key="explore_view").set_value("errors").run()
    assert not at.exception
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    matrix = figure["data"][0]["z"]
    assert len(matrix) == 10 and sum(map(sum, matrix)) == 10_000
    at.selectbox(key=f"cell_true_{SMALL_CNN.key}").set_value(6).run()  # shirts…
    at.selectbox(key=f"cell_predicted_{SMALL_CNN.key}").set_value(0).run()  # …taken for T-shirts
    listed = grid_tiles(at, f"mistakes_{SMALL_CNN.key}")
    assert listed and f"{matrix[6][0]} test images of Shirt predicted as T-shirt/top" in markdown_text(at)
    assert listed == sorted(listed)  # in reading order on the page (a phone stacks them), not down each column
    index = listed[0]
    assert int(small_data.test_labels[index]) == 6
    press_tile(at, f"mistakes_{SMALL_CNN.key}", [index, time.time()])
    assert at.radio(key="explore_view").value == "maps"
    assert f"Test image #{index}" in image_headings(at)


def test_a_link_with_run_and_image_opens_that_view(isolated_home, small_data):
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    train_run(tiny_mlp_run(epochs=1), open_store(isolated_home), isolated_home, data=small_data)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"run": SMALL_CNN.key, "image": "26"})
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception
    assert at.session_state["explore_run"] == SMALL_CNN.key
    assert "Test image #26" in image_headings(at)


def test_a_checkpoint_damaged_while_the_app_runs_gives_a_message_and_loses_nothing(isolated_home, small_data):
    from fmnist_core.storage import checkpoint_path

    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    assert "Test image #0" in image_headings(at)
    checkpoint_path(isolated_home, SMALL_CNN.key, 1).write_bytes(b"\x00garbage written by another program")
    at.select_slider(key=f"epoch_{SMALL_CNN.key}").set_value(1).run()
    assert not at.exception
    # refused by its SHA-256 (the store's record of what was written) before it is even unpacked
    assert "cannot be read" in at.error[0].value and "not the file that was written" in at.error[0].value
    at.select_slider(key=f"epoch_{SMALL_CNN.key}").set_value(2).run()
    assert not at.error and "Test image #0" in image_headings(at)


def test_gallery_shows_twenty_at_a_time_and_opens_on_the_page_of_the_selected_image(isolated_home, small_data):
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app(query={"run": SMALL_CNN.key, "image": "57"})
    at.switch_page("app_pages/explore.py").run()
    assert "Test image #57" in image_headings(at)
    assert grid_tiles(at, "gallery_buttons") == list(range(40, 60))  # in reading order
    shown = grid_data(at, "gallery_buttons")
    assert shown["selected"] == 57 and shown["label"] == "Test images"
    assert shown["tiles"][17]["description"] == "Test image #57: Coat"  # what a screen reader says of the tile
    at.radio(key="gallery_page").set_value(4).run()
    assert grid_tiles(at, "gallery_buttons") == list(range(80, 100))
    at.selectbox(key="class_filter").set_value(1).run()  # trousers: the first 100 of them, 5 pages again
    trousers = grid_tiles(at, "gallery_buttons")
    assert len(trousers) == 20 and not at.exception
    assert all(small_data.test_labels[index] == 1 for index in trousers)


def test_a_forged_pick_changes_nothing_and_a_real_one_still_works(isolated_home, small_data):
    """The grid's value comes from the browser: anything but [an image shown, a time] is ignored."""
    train_run(SMALL_CNN, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    for forged in ([500, 1.0], [25, 1.0], ["7", 1.0], [True, 1.0], [7.0, 1.0], 7, [[7], 1.0], None, {"index": 7},
                   [7], [-1, 1.0], [7, "x"], [7, None], "x" * 100_000):
        press_tile(at, "gallery_buttons", forged)
        assert not at.exception, forged
        assert "Test image #0" in image_headings(at), forged
    press_tile(at, "gallery_buttons", [19, time.time()])
    assert "Test image #19" in image_headings(at)
