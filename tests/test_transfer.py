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


# Issue 14: model files are untrusted. Measured before anything is allocated, verified before they are trusted.

def peak_memory_mb(script: str, home) -> float:
    """Peak resident memory (MB) of a fresh Python process that runs `script` (after the app's imports)."""
    import subprocess
    import sys

    from conftest import subprocess_env

    prelude = ("import resource, sys\n"
               "from fmnist_core.cache import open_store\n"
               "from fmnist_core.transfer import ModelFileError, import_run\n")
    report = "\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    done = subprocess.run([sys.executable, "-c", prelude + script + report], env=subprocess_env(home),
                          capture_output=True, text=True, timeout=300, check=True)
    return float(done.stdout.split()[-1])


def refusal_memory(path, home) -> float:
    """Extra peak memory (MB) of refusing the model file at `path`, over reading it alone."""
    read_only = f"raw = open({str(path)!r}, 'rb').read()"
    refuse = read_only + (f"\ntry:\n    import_run(__import__('pathlib').Path({str(home)!r}), open_store(), raw)\n"
                          "except ModelFileError as error:\n    print(error.code)\n")
    return peak_memory_mb(refuse, home) - peak_memory_mb(read_only, home)


def spec_at_the_old_limits_without_weights() -> bytes:
    """#14.1: 2 KB whose spec the core used to accept (512 filters, kernel 1, pool 1, dense 4096): building it
    took 6.5 GB before its (absent) weights were checked."""
    run = ('{"model":{"conv_channels":[512],"dense":4096,"kernel_size":1,"kind":"cnn","padding":0,"pool":1},'
           '"train":{"batch_size":256,"epochs":8,"label_smoothing":0.0,"lr":0.0001,"optimizer":"adam",'
           '"schedule":"constant","seed":0,"shuffle":false}}')
    import hashlib
    key = hashlib.sha256(run.encode()).hexdigest()[:16]
    buffer = io.BytesIO()
    torch.save({"format": "fmnist-explorer-checkpoint/1", "run": run, "key": key, "epoch": 1, "state_dict": {},
                "history": [[1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0]]}, buffer)
    return buffer.getvalue()


def zip_bomb(exported_raw: bytes, inflated_bytes: int) -> bytes:
    """#14.2: a real model file whose data.pkl is replaced by a deflated entry of `inflated_bytes` zeros."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(exported_raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bomb:
        for entry in source.infolist():
            if entry.filename.endswith("data.pkl"):
                info = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                with bomb.open(info, "w", force_zip64=True) as sink:
                    chunk = bytes(2**20)
                    for _ in range(inflated_bytes // 2**20):
                        sink.write(chunk)
            else:
                bomb.writestr(entry, source.read(entry.filename))
    return buffer.getvalue()


@pytest.mark.slow
def test_a_spec_past_the_limits_is_refused_before_any_model_is_built(tmp_path):
    raw = spec_at_the_old_limits_without_weights()
    assert len(raw) < 4096
    classroom = tmp_path / "server"
    with pytest.raises(ModelFileError) as refused:
        import_run(classroom, open_store(classroom), raw)
    assert refused.value.code == "mismatch" and "filters must be one of" in str(refused.value)
    path = tmp_path / "limits.pt"
    path.write_bytes(raw)
    assert refusal_memory(path, classroom) < 100


def test_declared_weights_are_checked_against_the_spec_before_the_model_is_built(exported, tmp_path):
    _, raw = exported
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    # A 4-byte storage that claims to be a (4096, 50176) matrix: a view costs nothing until something copies it.
    payload["state_dict"]["dense.0.weight"] = torch.zeros(1).expand(4096, 50176)
    with pytest.raises(ModelFileError) as refused:
        import_run(tmp_path / "s", open_store(tmp_path / "s"), tampered(raw, **payload))
    assert refused.value.code == "mismatch" and "expected" in str(refused.value)


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_it_is_unpacked(exported, tmp_path):
    _, raw = exported
    bomb = zip_bomb(raw, 256 * 2**20)
    assert len(bomb) < 2 * 2**20
    path = tmp_path / "bomb.pt"
    path.write_bytes(bomb)
    classroom = tmp_path / "server"
    with pytest.raises(ModelFileError) as refused:
        import_run(classroom, open_store(classroom), bomb)
    assert refused.value.code == "not_model" and "compressed" in str(refused.value)
    assert refusal_memory(path, classroom) < 100


def test_a_claimed_curve_is_never_the_cached_answer_unless_the_weights_score_it(exported, tmp_path, small_data):
    """#14.4: random weights with a claimed 99.9 % became the cached answer for everyone."""
    from fmnist_core.cache import cached_result

    run, raw = exported
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    torch.manual_seed(0)
    payload["state_dict"] = {name: torch.randn_like(tensor) for name, tensor in payload["state_dict"].items()}
    payload["history"][-1][4] = 0.999  # val_acc of the last epoch
    classroom = tmp_path / "server"
    store = open_store(classroom)
    record = import_run(classroom, store, tampered(raw, **payload), data=small_data).record
    assert record.origin == "imported" and not record.verified
    assert record.measured_acc < 0.5 and record.final.val_acc == 0.999
    assert cached_result(store, classroom, run) is None
    store.post(run.key, "someone")
    assert store.board() == []  # an unverified claim never reaches the class board

    honest = tmp_path / "honest"
    kept = import_run(honest, open_store(honest), raw, data=small_data).record
    assert kept.verified and kept.measured_acc == pytest.approx(kept.final.val_acc, abs=1e-9)
    assert cached_result(open_store(honest), honest, run) is not None


@pytest.mark.slow
def test_the_cli_trains_a_spec_whose_only_record_is_an_unverified_import(exported, tmp_path, small_data):
    import json
    import subprocess
    import sys

    from conftest import subprocess_env

    run, raw = exported
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    payload["history"][-1][4] = 0.999
    classroom = tmp_path / "server"
    import_run(classroom, open_store(classroom), tampered(raw, **payload), data=small_data)
    flags = ["--preset", "seed-pytorch-cnn", "--conv-channels", "8", "--dense", "32", "--epochs",
             str(run.train.epochs), "--lr", "3e-3", "--json"]
    done = subprocess.run([sys.executable, "-m", "fmnist_core", "train", *flags], env=subprocess_env(classroom),
                          capture_output=True, text=True, timeout=300)
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["run_id"] == run.key and summary["cached"] is False
    assert open_store(classroom).get(run.key).history[-1].val_acc < 0.99


def test_an_upload_never_replaces_a_stopped_run_or_its_resume_state(exported, tmp_path, small_data):
    """#14.5: a run stopped at epoch 1 of 2 lost its epochs and resume state to an upload of the same spec."""
    from fmnist_core.runs import resumable_epoch
    from fmnist_core.storage import resume_path

    run, raw = exported
    classroom = tmp_path / "server"
    store = open_store(classroom)
    finished = []
    train_run(run, store, classroom, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 1)
    assert resumable_epoch(classroom, store, run.key) == 1
    before = resume_path(classroom, run.key).read_bytes()
    with pytest.raises(ModelFileError) as refused:
        import_run(classroom, store, raw, data=small_data)
    assert refused.value.code == "exists"
    assert store.get(run.key).history == finished and store.get(run.key).status == "cancelled"
    assert resume_path(classroom, run.key).read_bytes() == before
    assert resumable_epoch(classroom, store, run.key) == 1


_EXPORTED_FOR_PROPERTIES = {}


def _exported_bytes(small_data) -> bytes:
    """One real exported model file for the property test (trained once per test session)."""
    import tempfile
    from pathlib import Path

    if "raw" not in _EXPORTED_FOR_PROPERTIES:
        home = Path(tempfile.mkdtemp(prefix="fmnist-export-"))
        run = tiny_cnn_run(epochs=1)
        train_run(run, open_store(home), home, data=small_data)
        _EXPORTED_FOR_PROPERTIES["raw"] = export_run(home, open_store(home), run.key)
    return _EXPORTED_FOR_PROPERTIES["raw"]


@pytest.mark.slow
def test_any_mutation_of_a_model_file_is_imported_or_refused_in_the_apps_own_words(small_data, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    raw = _exported_bytes(small_data)
    codes = ("file_size", "not_model", "mismatch", "values", "curve", "busy", "exists")

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        st.binary(max_size=4096),
        st.builds(lambda cut: raw[:cut], st.integers(0, len(raw))),
        st.builds(lambda position, value: raw[:position] + bytes([value]) + raw[position + 1:],
                  st.integers(0, len(raw) - 1), st.integers(0, 255)),
    ))
    def check(candidate):
        import shutil
        home = tmp_path / "server"
        shutil.rmtree(home, ignore_errors=True)
        try:
            import_run(home, open_store(home), candidate, data=small_data)
        except ModelFileError as error:
            assert error.code in codes

    check()


def test_files_found_by_a_review_are_refused_in_the_apps_own_words(exported, tmp_path):
    """Meta-device weights, a 400-digit number in the curve, a zip of many empty entries."""
    import zipfile

    _, raw = exported
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    meta = tampered(raw, state_dict={name: tensor.to("meta") for name, tensor in payload["state_dict"].items()})
    huge = tampered(raw, history=[[1, 10**400, 0.5, 0.5, 0.5, 1.0, 1.0]] + payload["history"][1:])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as many:
        for index in range(5000):
            many.writestr(f"archive/data/{index}", b"")
    for candidate, code in ((meta, "mismatch"), (huge, "curve"), (buffer.getvalue(), "not_model")):
        classroom = tmp_path / f"server-{code}"
        with pytest.raises(ModelFileError) as refused:
            import_run(classroom, open_store(classroom), candidate)
        assert refused.value.code == code
