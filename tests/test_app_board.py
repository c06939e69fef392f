"""AppTest for the class board: my runs highlighted, a class of its own, the teacher clears it."""
import json

import pytest

from conftest import app, teacher_app, tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def test_the_class_board_highlights_my_runs_and_the_teacher_clears_it_after_asking(isolated_home, small_data):
    store = open_store(isolated_home)
    mine, theirs = tiny_cnn_run(epochs=1), tiny_mlp_run(epochs=1)
    train_run(mine, store, isolated_home, data=small_data, owner="me")
    train_run(theirs, store, isolated_home, data=small_data, owner="someone")
    at = app(owner="me")
    at.switch_page("app_pages/board.py").run()
    assert not at.exception
    assert "2 runs from 2 browsers · yours: 1" in at.caption[0].value
    traces = {trace["name"]: trace for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert set(traces) == {"CNN, 1 conv · yours", "MLP, 1 hidden"}
    assert traces["CNN, 1 conv · yours"]["marker"]["symbol"] == "star"
    assert not any(button.label.startswith("Clear the board") for button in at.button)

    teacher = teacher_app()  # a teacher with no class open: the board of the students in no class
    teacher.switch_page("app_pages/board.py").run()
    [clear] = [button for button in teacher.button if button.label.startswith("Clear the board")]
    clear.click().run()
    assert "Take all 2 runs off the class board?" in teacher.warning[0].value  # asked first
    [keep] = [button for button in teacher.button if button.label == "Keep it"]
    keep.click().run()
    assert len(store.board()) == 2
    [clear] = [button for button in teacher.button if button.label.startswith("Clear the board (")]
    clear.click().run()
    [confirm] = [button for button in teacher.button if button.label == "Clear the board"]
    confirm.click().run()
    assert "No runs on the board yet" in teacher.info[0].value
    assert not teacher.warning  # the question is gone once answered
    assert store.get(mine.key).status == "done"  # cleared from the board, still cached
    store.post(mine.key, "me")  # fetched again after the clear: back on the board
    assert [entry.record.key for entry in store.board()] == [mine.key]
