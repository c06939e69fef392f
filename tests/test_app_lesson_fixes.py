"""The findings of a new-user trial of the lesson (issue #24, "Also fix"), each as a test."""
import json

import pytest
import streamlit as st

from conftest import app, tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")
NBSP = "\u00a0"


def in_spanish(key, **values):
    from fmnist_ui.i18n import t

    st.session_state["lang"] = "es"
    try:
        return t(key, **values)
    finally:
        del st.session_state["lang"]


def test_spanish_percentages_are_written_one_way_and_the_spread_reads_as_spanish():
    notice = in_spanish("guide_cnn_notice", cnn=0.8999, mlp=0.87, fewer=0.23)
    assert f"89,99{NBSP}%" in notice or f"90,0{NBSP}%" in notice
    assert f"23{NBSP}% menos" in notice and "23% " not in notice
    assert "separados por" in in_spanish("guide_filters_notice", best="x", acc=0.9, spread=1.7)


def test_the_teachers_control_list_names_the_kernel_as_the_widget_does():
    from fmnist_ui.i18n import english_text

    assert english_text("control_kernel_size") == english_text("kernel_size")


def test_compare_shows_no_raw_none_for_a_run_stopped_before_its_first_epoch(isolated_home):
    store = open_store(isolated_home)
    run = tiny_cnn_run()
    store.queue(run, 100)
    store.finish(run.key, "cancelled")
    at = app()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert "None" not in frame.astype(str).to_string()
    assert frame["Best val. acc."].dtype.kind == "f" if "Best val. acc." in frame else True


def test_run_colours_follow_the_run_not_the_order_it_was_picked_in(isolated_home, small_data):
    from fmnist_ui import charts

    store = open_store(isolated_home)
    records = []
    for run in (tiny_cnn_run(), tiny_mlp_run()):
        records.append(train_run(run, store, isolated_home, data=small_data).record)
    forward, backward = charts.run_styles(records), charts.run_styles(records[::-1])
    assert forward == backward
    overlay = charts.validation_overlay(records[::-1])
    gap = charts.train_vs_validation(records[0], forward[records[0].key])
    colour = forward[records[0].key]["color"]
    overlay_colour = next(trace.line.color for trace in overlay.data if trace.name.startswith("CNN"))
    assert overlay_colour == colour and gap.data[0].line.color == colour == gap.data[1].line.color


def test_the_change_under_the_big_number_has_one_sign_and_no_arrow(isolated_home, small_data):
    from fmnist_ui.widgets import spec_to_state

    store = open_store(isolated_home)
    first, second = tiny_cnn_run(), tiny_cnn_run(epochs=1, seed=5)
    for run in (first, second):
        train_run(run, store, isolated_home, data=small_data)
    from streamlit.proto.Metric_pb2 import Metric

    at = app(**spec_to_state(second), results_seen=[(first.key, 2.0)])  # a previous run better than this one
    [metric] = at.metric
    assert metric.proto.delta.startswith("-") and metric.proto.direction == Metric.MetricDirection.NONE


def test_preset_buttons_are_in_reading_order_row_by_row():
    from fmnist_core.presets import PRESETS

    at = app()
    keys = [button.key for button in at.button if button.key and button.key.startswith("preset_")]
    assert keys == [f"preset_{name}" for name in PRESETS]


def test_chart_numbers_use_the_languages_decimal_mark(isolated_home, small_data):
    run = tiny_cnn_run()
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    from fmnist_ui.widgets import spec_to_state

    at = app("es", **spec_to_state(run))
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["separators"] == ",."
