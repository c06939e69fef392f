"""AppTest for Compare runs. Real widgets, real run store, real (small) training."""

import pytest

from conftest import SMALL_CNN, app, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def test_compare_lists_runs_with_accuracies(isolated_home, small_data):
    store = open_store(isolated_home)
    train_run(SMALL_CNN, store, isolated_home, data=small_data)
    train_run(tiny_mlp_run(epochs=1), store, isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["Status"]) == {"done"}
    assert (table["Best val. acc."] > 50).all()
    assert len(at.get("plotly_chart")) == 4  # overlay, scatter, and train-vs-validation for both
    verdicts = [element.value for element in at.caption if "best validation" in element.value]
    assert len(verdicts) == 2 and "at epoch" in verdicts[0]
