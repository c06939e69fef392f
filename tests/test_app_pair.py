"""AppTest for MLP vs CNN: one button trains both on one recipe; one screen compares them."""

import pytest

from conftest import app, tiny_cnn_run, wait_until_done
from fmnist_ui import state
from fmnist_ui.widgets import spec_to_state

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


@pytest.mark.slow
def test_mlp_vs_cnn_trains_both_on_one_recipe_and_compares_them():
    small = spec_to_state(tiny_cnn_run(epochs=1, shuffle=True))
    at = app(**small)
    at.switch_page("app_pages/pair.py").run()
    assert not at.exception
    assert "seed 0" in at.caption[0].value
    [train_both] = [button for button in at.button if button.label.startswith("Train both")]
    train_both.click().run()
    keys = [record.key for record in state.store().all()]
    assert len(keys) == 2
    runs = [state.store().get(key).run for key in keys]
    assert runs[0].train == runs[1].train and {run.model.kind for run in runs} == {"mlp", "cnn"}
    assert wait_until_done(keys)
    at.run()
    table = at.dataframe[0].value
    assert list(table["Model"]) == ["MLP (dense only)", "CNN (convolutional)"]
    assert (table["Best val. acc."] > 70).all() and (table["Parameters"] > 0).all()
    assert "fewer mistakes" in at.success[0].value and "per 100k" not in str(list(table.columns))
    assert list(table.columns).count("Wrong in 100 test images") == 1
    assert [board.record.key for board in state.store().board()]  # both went on the class board
