"""Take a model home and bring it back: round trip, and every kind of bad file refused with its reason."""
import io
import pickle

import pytest
import torch

from conftest import tiny_cnn_run
from fmnist_core.cache import open_store
from fmnist_core.runs import load_run_checkpoint, train_run
from fmnist_core.training import as_input, memory_format_for
from fmnist_core.transfer import ModelFileError, export_run, import_run


@pytest.fixture
def exported(isolated_home, small_data):
    run = tiny_cnn_run(epochs=2)
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    return run, export_run(isolated_home, open_store(isolated_home), run.key)


def tampered(raw: bytes, **changes) -> bytes:
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    payload.update(changes)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_a_model_taken_home_comes_back_with_the_same_predictions_and_curve(exported, tmp_path, small_data):
    run, raw = exported
    classroom = tmp_path / "another-server"
    store = open_store(classroom)
    result = import_run(classroom, store, raw, owner="student")
    assert not result.already_here and result.record.status == "done"
    original = open_store(tmp_path / "home").get(run.key)
    assert result.record.history == original.history
    images = as_input(small_data.test_images[:64], memory_format_for(run.model))
    ours = load_run_checkpoint(classroom, run.key).model.module(images)
    theirs = load_run_checkpoint(tmp_path / "home", run.key).model.module(images)
    assert torch.equal(ours, theirs)
    assert import_run(classroom, store, raw).already_here  # a second upload changes nothing


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("make_file, code", [
    (lambda raw: b"", "not_model"),
    (lambda raw: b"just some text, not a model", "not_model"),
    (lambda raw: raw[: len(raw) // 2], "not_model"),
    (lambda raw: pickle.dumps(Exploit()), "not_model"),
    (lambda raw: tampered(raw, format="someone-else/1"), "not_model"),
    (lambda raw: tampered(raw, run='{"model": {"kind": "cnn"}}'), "mismatch"),
    (lambda raw: tampered(raw, key="0123456789abcdef"), "mismatch"),
    (lambda raw: tampered(raw, epoch=99), "mismatch"),
    (lambda raw: tampered(raw, state_dict={"conv1.weight": torch.zeros(3)}), "mismatch"),
    (lambda raw: tampered(raw, history=[[1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0]]), "curve"),
    (lambda raw: tampered(raw, history=[[1, 0.5, 7.0, 0.5, 0.8, 1.0, 100.0], [2, 0.5, 0.8, 0.5, 0.8, 1.0, 1.0]]),
     "curve"),
    (lambda raw: raw + b"\0" * (33 * 2**20), "file_size"),
])
def test_a_bad_model_file_is_refused_with_its_reason_and_nothing_is_written(exported, tmp_path, make_file, code,
                                                                            capsys):
    _, raw = exported
    classroom = tmp_path / "another-server"
    store = open_store(classroom)
    with pytest.raises(ModelFileError) as refused:
        import_run(classroom, store, make_file(raw))
    assert refused.value.code == code and str(refused.value)
    assert store.all() == [] and not (classroom / "runs").exists()
    assert "this must never run" not in capsys.readouterr().out


def test_weights_with_nan_are_refused(exported, tmp_path):
    _, raw = exported
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    payload["state_dict"]["conv1.weight"][0, 0, 0, 0] = float("nan")
    with pytest.raises(ModelFileError) as refused:
        import_run(tmp_path / "elsewhere", open_store(tmp_path / "elsewhere"), tampered(raw, **payload))
    assert refused.value.code == "values"
