"""A model kind is one file (README, "Making a change"): a throw-away kind from tests/pooled_kind.py is read from
links, built, trained by the command line into the store, drawn by the Build & train page (its widgets, the
teacher's lock list), labelled, and put on the class board, with no other file knowing of it."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import app
from fmnist_core.kinds import MODEL_KINDS

KIND_FILE = Path(__file__).with_name("pooled_kind.py")


@pytest.fixture
def pooled():
    """The kind's file imported afresh (which registers it), and the registry as it was afterwards."""
    before = dict(MODEL_KINDS)
    spec = importlib.util.spec_from_file_location("pooled_kind", KIND_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
    MODEL_KINDS.clear()
    MODEL_KINDS.update(before)


def test_a_kind_from_one_file_is_read_built_and_trained(pooled, small_data):
    from fmnist_core.models import build_model
    from fmnist_core.specs import RunSpec, SpecError, TrainConfig, run_from_json, validate
    from fmnist_core.training import fit

    run = RunSpec(pooled.PooledSpec(pool=4, width=16), TrainConfig(epochs=3, lr=1e-2, shuffle=True))
    validate(run)
    assert run_from_json(run.canonical_json()) == run  # a link or a checkpoint holds it
    with pytest.raises(SpecError, match="pool must be one of 1, 2, 4, got 3"):
        run_from_json(json.dumps({**run.to_dict(), "model": {"kind": "pooled", "pool": 3, "width": 16}}))
    assert [layer.output_shape for layer in build_model(run.model).layers] == [(49,), (16,), (10,)]
    result = fit(run, small_data)
    assert result.history[-1].val_acc > 0.6  # chance is 0.1


def test_the_command_line_takes_the_kinds_flags_and_trains_it_into_the_store(pooled, capsys):
    from fmnist_core.cache import open_store
    from fmnist_core.cli import main
    from fmnist_core.storage import app_home

    code = main(["train", "--model", "pooled", "--pool", "4", "--width", "16", "--epochs", "1", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    record = open_store(app_home()).get(summary["run_id"])
    assert record.status == "done" and record.run.model == pooled.PooledSpec(pool=4, width=16)
    assert record.best.val_acc > 0.5


def test_a_lesson_locks_and_hides_the_kinds_controls(pooled):
    at = app(query={"lock": "pool", "hide": "pooled_width"}, model_kind="pooled")
    assert not at.exception
    assert at.radio(key="pool").disabled
    assert not [slider for slider in at.select_slider if slider.key == "pooled_width"]


def test_a_kind_that_names_what_another_kind_names_is_refused(pooled):
    import dataclasses

    from fmnist_core.kinds import Control, Flag, register

    @dataclasses.dataclass(frozen=True)
    class OtherSpec(pooled.PooledSpec):
        kind: str = "other"

    other = dataclasses.replace(pooled.KIND, name="other", spec=OtherSpec, controls=(), texts={}, flags=(),
                                colors=("#F0E442",))
    for clash, message in [({"texts": {"kind_cnn": "x"}}, "text 'kind_cnn' is also 'cnn'"),
                           ({"colors": ("#0072B2",), "marker": "diamond"}, "board look .* is also 'pooled'"),
                           ({"controls": (Control("pool", ()),)}, "control 'pool' is also 'pooled'"),
                           ({"controls": pooled.KIND.controls[1:]}, "is also 'pooled'"),
                           ({"flags": (Flag("hidden"),)}, "flag 'hidden' is also 'mlp'"),
                           ({"colors": ("#F0E442", "#000000")}, "one colour per depth")]:
        with pytest.raises(ValueError, match=message):
            register(dataclasses.replace(other, **clash))
    assert "other" not in MODEL_KINDS
    register(other)  # nothing shared: taken
    assert "other" in MODEL_KINDS


def test_a_familys_colour_does_not_depend_on_the_other_kinds(pooled):
    from fmnist_ui.charts import families

    colours = {(kind, layers): color for kind, layers, color in families()}
    assert colours[("cnn", 2)] == "#E69F00" and colours[("mlp", 1)] == "#0072B2"  # as before kinds were modules
    assert colours[("pooled", 1)] == "#0072B2"  # told apart from the MLP by its marker


def test_the_build_page_draws_the_kinds_widgets_and_the_teacher_can_lock_them(pooled):
    from fmnist_ui.locks import controls, known_controls
    from fmnist_ui.widgets import spec_from_state

    assert "pool" in controls() and known_controls("pool,nonsense") == ["pool"]
    at = app()
    assert "Pooled MLP" in at.radio(key="model_kind").options
    at.radio(key="model_kind").set_value("pooled").run()
    assert not at.exception and not at.error
    assert at.radio(key="pool").label == "Shrink the image by"
    assert at.radio(key="pool").options == ["1×", "2×", "4×"]
    at.radio(key="pool").set_value(4).run()
    at.select_slider(key="pooled_width").set_value(64).run()
    assert spec_from_state(at.session_state).model == pooled.PooledSpec(pool=4, width=64)
    table = at.table[0].value.reset_index()
    assert list(table["Output"]) == ["49", "64", "10"]


def test_the_board_and_a_runs_label_show_the_kind(pooled):
    from fmnist_core.metrics import EpochMetrics
    from fmnist_core.runstore import BoardEntry, RunRecord
    from fmnist_core.specs import RunSpec, TrainConfig
    from fmnist_ui.charts import class_board
    from fmnist_ui.describe import run_label

    run = RunSpec(pooled.PooledSpec(width=64), TrainConfig())
    record = RunRecord(run.key, run, run.summary(), "pooled", 50_000, "done", "cpu", "x", None, None, 0.0, 0.0, 1.0,
                       [EpochMetrics(1, 0.5, 0.8, 0.5, 0.81, 1.0, 1000.0)])
    figure = class_board([BoardEntry(record, frozenset({"x"}))], owner="me", axis="params")
    assert [(trace.name, trace.marker.symbol) for trace in figure.data] == [("Pooled MLP", "diamond")]
    assert run_label(run).startswith("Pooled MLP 64 neurons · ")
