"""A link at every limit the core accepts opens on Build & train exactly as it was shared (no red box)."""
import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP
from fmnist_core import specs
from fmnist_core.kinds import cnn, mlp
from fmnist_core.kinds.cnn import CNNSpec
from fmnist_core.kinds.mlp import MLPSpec
from fmnist_core.specs import RunSpec, TrainConfig

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def at_the_limits() -> list[RunSpec]:
    lowest = TrainConfig(epochs=specs.EPOCH_RANGE[0], batch_size=min(specs.BATCH_CHOICES), optimizer="sgd",
                         lr=min(specs.LR_CHOICES), seed=specs.SEED_RANGE[0], shuffle=False, schedule="constant",
                         label_smoothing=min(specs.LABEL_SMOOTHING_CHOICES))
    highest = TrainConfig(epochs=specs.EPOCH_RANGE[1], batch_size=max(specs.BATCH_CHOICES), optimizer="adam",
                          lr=max(specs.LR_CHOICES), seed=specs.SEED_RANGE[1], shuffle=True, schedule="onecycle",
                          label_smoothing=max(specs.LABEL_SMOOTHING_CHOICES))
    kernel_low, kernel_high = min(cnn.KERNEL_CHOICES), max(cnn.KERNEL_CHOICES)
    return [
        RunSpec(CNNSpec(conv_channels=(min(cnn.FILTER_CHOICES),) * cnn.CONV_LAYER_RANGE[0],
                        kernel_size=kernel_high, padding=0, dense=min(cnn.DENSE_CHOICES)), lowest),
        RunSpec(CNNSpec(conv_channels=(max(cnn.FILTER_CHOICES),) * cnn.CONV_LAYER_RANGE[1],
                        kernel_size=kernel_low, padding=cnn.padding_for("same", kernel_low),
                        dense=max(cnn.DENSE_CHOICES)), highest),
        RunSpec(MLPSpec(hidden=(min(mlp.HIDDEN_CHOICES),) * mlp.HIDDEN_LAYER_RANGE[0]), highest),
        RunSpec(MLPSpec(hidden=(max(mlp.HIDDEN_CHOICES),) * mlp.HIDDEN_LAYER_RANGE[1]), lowest),
    ]


@pytest.mark.parametrize("shared", at_the_limits(), ids=lambda run: run.summary())
def test_a_link_at_the_limits_shows_exactly_that_spec(shared):
    from fmnist_ui.share import encode_run
    from fmnist_ui.widgets import spec_from_state

    specs.validate(shared)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["spec"] = encode_run(shared)
    at.run()
    assert not at.exception and not at.error
    assert spec_from_state(at.session_state) == shared
    at.run()  # and on every later rerun
    assert not at.exception and spec_from_state(at.session_state) == shared


def every_depth_of_every_kind():
    """A spec of each registered kind at each depth it accepts, built as its widgets build one."""
    from fmnist_core.kinds import MODEL_KINDS, PerLayer

    for kind in MODEL_KINDS.values():
        per_layer = next(widget for widget in kind.widgets() if isinstance(widget, PerLayer))
        low, high = kind.spec.depth_range
        for depth in range(low, high + 1):
            state = {**kind.to_state(kind.spec()), per_layer.count: depth,
                     **dict.fromkeys(per_layer.keys(), per_layer.default)}
            yield kind.from_state(state)


def test_the_class_board_draws_every_depth_of_every_kind_in_a_family_of_its_own():
    from fmnist_core.metrics import EpochMetrics
    from fmnist_core.runstore import BoardEntry, RunRecord
    from fmnist_ui.charts import class_board

    entries = []
    for index, model in enumerate(every_depth_of_every_kind()):
        run = RunSpec(model, TrainConfig(seed=index))
        history = [EpochMetrics(1, 0.5, 0.8, 0.5, 0.8 + index / 1000, 1.0, 1000.0)]
        record = RunRecord(run.key, run, run.summary(), model.kind, 1000 + index, "done", "cpu", "other", None, None,
                           0.0, 0.0, 1.0, history)
        entries.append(BoardEntry(record, frozenset({"other"})))
    figure = class_board(entries, owner="me", axis="params")
    drawn = sorted(y for trace in figure.data for y in trace.y)
    assert drawn == sorted(entry.record.best.val_acc for entry in entries)  # every run, once
    looks = [(trace.marker.color, trace.marker.symbol) for trace in figure.data]
    assert len(figure.data) == len(entries) and len(set(looks)) == len(looks)  # each family told apart
    assert len({trace.name for trace in figure.data}) == len(entries)


@pytest.mark.parametrize("query", [
    {"spec": "eyJtb2RlbCI6eyJraW5kIjoibWxwIiwiaGlkZGVuIjpbNjRdfSwidHJhaW4iOnsic2h1ZmZsZSI6InllcyJ9fQ"},
    {"spec": "A" * 100_000}, {"spec": "%%%"},
])
def test_a_link_the_core_refuses_is_the_apps_message_in_both_languages(query):
    for lang, words in (("en", "cannot be used"), ("es", "no se puede usar")):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update({"lang": lang, **query})
        at.run()
        assert not at.exception and words in at.error[0].value


@pytest.mark.parametrize("image", ["²", "٣", "99999999999999999999", "-1", "7.5"])
def test_an_odd_image_number_in_a_link_opens_the_default_image(isolated_home, small_data, image):
    from conftest import tiny_cnn_run
    from fmnist_core.cache import open_store
    from fmnist_core.runs import train_run

    run = tiny_cnn_run()
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"run": run.key, "image": image})
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception
    assert any(element.value == "### Test image #0" for element in at.markdown)


QUERY_VALUES = ["", "0", "-1", "²", "1e400", "Infinity", "null", "%00", "../../etc/passwd", "a" * 5000,
                "0123456789abcdef", "eyJtb2RlbCI6IDF9", "cnn,mlp,epochs", "es", "fr", "1"]


@pytest.mark.parametrize("page", ["app_pages/train.py", "app_pages/explore.py", "app_pages/pair.py",
                                  "app_pages/compare.py", "app_pages/board.py"])
def test_no_query_a_student_can_type_shows_a_red_box(isolated_home, small_data, page):
    """Any value of any query parameter the app reads: the page shows, or says in its own words what is wrong."""
    import random

    from conftest import tiny_cnn_run
    from fmnist_core.cache import open_store
    from fmnist_core.runs import train_run

    run = tiny_cnn_run()
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    chooser = random.Random(page)
    for _ in range(6):
        query = {name: chooser.choice(QUERY_VALUES + [run.key])
                 for name in ("spec", "run", "image", "lang", "lock", "hide", "teacher")}
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update(query)
        at.switch_page(page).run()
        assert not at.exception, (query, [element.value for element in at.exception])
