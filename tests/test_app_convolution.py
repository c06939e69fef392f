"""AppTest for the convolution page and Explore's "Where it looked" (issue #24)."""
import pytest

from conftest import app, markdown_text, tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def convolution_page(**widgets):
    at = app(**widgets)
    at.switch_page("app_pages/convolution.py").run()
    assert not at.exception
    return at


def images_shown(at) -> str:
    """Every picture on the page (in columns too), with its caption and text alternative, as text."""
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", "") in ("image", "imgs"):
                found.append(str(child.proto))
            walk(child)

    walk(at.main)
    return " ".join(found)


def table_of(at, caption_start: str) -> str:
    """The HTML of the grid whose caption starts with `caption_start`."""
    [grid] = [element.proto.body for element in at.get("html") if f">{caption_start}" in element.proto.body]
    return grid


def test_the_toy_image_steps_from_position_to_position_and_padding_sets_the_size():
    at = convolution_page()
    assert "Output 3×3" in table_of(at, "Output")  # padding none: 5×5 → 3×3
    assert "Position 1 of 9" in markdown_text(at)
    at.button(key="conv_toy_valid_1_forward").click().run()
    assert "Position 2 of 9" in markdown_text(at)
    at.radio(key="conv_padding").set_value("same").run()
    assert "Output 5×5" in table_of(at, "Output") and "Position 1 of 25" in markdown_text(at)
    assert "with a ring of 1 padded zero(s)" in table_of(at, "Input 5×5")
    at.radio(key="conv_stride").set_value(2).run()
    assert "Output 3×3" in table_of(at, "Output") and "Position 1 of 9" in markdown_text(at)


def test_each_step_says_its_sum_and_the_sums_are_the_products_of_the_window():
    at = convolution_page()
    at.slider(key="conv_toy_valid_1_position").set_value(2).run()  # top row, middle: over the T's bar
    text = markdown_text(at)
    # the vertical-edge kernel over rows 1-3, columns 2-4 of the T: (1+2·0+1·0)·1 … = sum shown
    assert "add up to **" in text and "row 1, column 2" in text
    products = table_of(at, "The nine products")
    assert products.count("×") == 9


def test_play_advances_by_itself_and_stops_at_the_end():
    at = convolution_page()
    at.button(key="conv_toy_valid_1_play").click().run()
    assert at.button(key="conv_toy_valid_1_play").label == "Pause"
    assert at.session_state["conv_toy_valid_1_playing"] is True


def test_a_typed_kernel_and_a_piece_of_a_test_image_with_whole_numbers():
    at = convolution_page()
    at.radio(key="conv_source").set_value("test").run()
    assert "Input 7×7" in table_of(at, "Input")
    at.selectbox(key="conv_kernel").set_value("custom").run()
    at.number_input(key="conv_cell_11").set_value(2.0).run()  # identity × 2
    grid = table_of(at, "Output")
    assert "Output 5×5" in grid and not at.exception


def test_the_whole_image_through_a_filter_relu_and_max_pool_with_sizes():
    at = convolution_page()
    shown = images_shown(at)
    assert "Convolution 26×26" in shown and "After ReLU 26×26" in shown and "After max-pool 13×13" in shown
    assert "Image 28×28" in shown and "bright where it matches" in shown


def test_a_learned_filter_is_named_after_its_closest_classic_kernel(isolated_home, small_data):
    train_run(tiny_cnn_run(), open_store(isolated_home), isolated_home, data=small_data)
    at = convolution_page()
    at.selectbox(key="conv_kernel").set_value("learned").run()
    assert any(caption.value.startswith("Closest classic kernel") for caption in at.caption)


def test_explore_shows_where_the_model_looked_with_a_text_alternative(isolated_home, small_data):
    store = open_store(isolated_home)
    cnn, mlp = tiny_cnn_run(), tiny_mlp_run()
    for run in (cnn, mlp):
        train_run(run, store, isolated_home, data=small_data)
    at = app(explore_run=cnn.key)
    at.switch_page("app_pages/explore.py").run()
    at.radio(key="explore_view").set_value("looked").run()
    assert not at.exception
    alts = images_shown(at)
    assert "Heat map of" in alts and "half of it covers" in alts
    at.radio(key=f"looked_method_{cnn.key}").set_value("gradcam").run()
    at.selectbox(key=f"looked_compare_{cnn.key}").set_value(mlp.key).run()  # the MLP beside it (occlusion)
    assert not at.exception
    assert images_shown(at).count("Heat map of") == 2
