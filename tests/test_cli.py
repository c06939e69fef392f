import json
import subprocess
import sys

import pytest

from conftest import ROOT, subprocess_env, tiny_mlp_run
from fmnist_core.presets import DEFAULT_PRESET, PRESETS, mlp_vs_cnn

EPOCH_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds", "images_per_second"}


def cli(home, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "fmnist_core", *args], cwd=ROOT, env=subprocess_env(home),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_json_contract_then_cached(isolated_home):
    args = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "2", "--lr", "0.003", "--json"]
    first = cli(isolated_home, *args)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    epochs, final = lines[:-1], lines[-1]
    assert [line["epoch"] for line in epochs] == [1, 2]
    for line in epochs:
        assert set(line) == EPOCH_KEYS
        assert 0.5 < line["val_acc"] <= 1 and 0 < line["train_acc"] <= 1
    assert final["done"] is True and final["cached"] is False
    assert final["params"] == 784 * 32 + 32 + 330 and final["device"] in ("cpu", "cuda", "mps")
    assert final["spec"]["model"] == {"kind": "mlp", "hidden": [32]}
    assert final["spec"]["train"]["epochs"] == 2 and len(final["run_id"]) == 16

    second = cli(isolated_home, *args)
    again = [json.loads(line) for line in second.stdout.splitlines()]
    assert again[-1]["cached"] is True and again[-1]["run_id"] == final["run_id"]
    assert again[:-1] == epochs


@pytest.mark.slow
def test_explicit_flags_override_the_preset(isolated_home):
    result = cli(isolated_home, "train", "--preset", "seed-pytorch-cnn", "--conv-channels", "8", "--dense", "16",
                 "--epochs", "1", "--json")
    assert result.returncode == 0, result.stderr
    final = json.loads(result.stdout.splitlines()[-1])
    assert final["spec"]["model"]["conv_channels"] == [8] and final["spec"]["model"]["dense"] == 16
    assert final["spec"]["train"]["lr"] == 1e-4 and final["spec"]["train"]["shuffle"] is False


def test_padding_flag_builds_same_padding():
    from fmnist_core.cli import build_parser, run_from_args

    run = run_from_args(build_parser().parse_args(["train", "--padding", "1", "--conv-channels", "8,8"]))
    assert run.model.padding == 1 and run.model.conv_channels == (8, 8)
    assert run_from_args(build_parser().parse_args(["train", "--preset", "fast-cnn-long"])).model.padding == 1


@pytest.mark.slow
def test_readable_output_without_json(isolated_home):
    result = cli(isolated_home, "train", "--model", "mlp", "--hidden", "16", "--epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "epoch  1/1 |" in result.stdout and "final validation accuracy" in result.stdout


@pytest.mark.parametrize("args, words", [
    (["--kernel-size", "30"], "kernel"),
    (["--padding", "2"], "padding"),
    (["--conv-channels", "32,32,32,32"], "conv layer 4"),
    (["--lr", "-1"], "learning rate"),
    (["--epochs", "0"], "epochs"),
    (["--conv-channels", "a,b"], "comma-separated"),
    (["--optimizer", "rmsprop"], "invalid choice"),
    (["--preset", "nope"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(isolated_home, args, words):
    result = cli(isolated_home, "train", *args, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, environment, words", [
    (["train", "--device", "cuda", "--epochs", "1"], {"CUDA_VISIBLE_DEVICES": ""}, "CUDA"),
    (["train", "--epochs", "1"], {"FMNIST_THREADS": "abc"}, "FMNIST_THREADS"),
    (["worker", "--run-id", "../../x"], {}, "run id"),
    (["train", "--epochs", "1"], {"FMNIST_HOME": ""}, "FMNIST_HOME"),
    (["train", "--epochs", "1"], {"FMNIST_DISK_QUOTA_GB": "lots"}, "FMNIST_DISK_QUOTA_GB"),
    (["teacher-link"], {"FMNIST_TEACHER_CODE": "417"}, "FMNIST_TEACHER_CODE"),
    pytest.param(["train", "--epochs", "1"], {"FMNIST_DATABASE_URL": "postgresql://teacher:hunter2@127.0.0.1:1/x"},
                 "does not answer", marks=pytest.mark.slow),  # the pool tries for its 10 s before it says so
    (["train", "--epochs", "1"], {"FMNIST_DATABASE_URL": "mysql://teacher:hunter2@db/fmnist"}, "postgresql://"),
])
def test_bad_settings_exit_2_with_one_line(isolated_home, args, environment, words):
    """#22: these ended in 14–25-line tracebacks, and an empty FMNIST_HOME silently used the default folder."""
    env = dict(subprocess_env(isolated_home), **environment)
    result = subprocess.run([sys.executable, "-m", "fmnist_core", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr  # no password, ever


def test_the_teacher_link_is_printed_for_the_administrator(isolated_home):
    from fmnist_core.teacher import teacher_code

    result = cli(isolated_home, "teacher-link", "--port", "8600")
    assert result.returncode == 0, result.stderr
    code = teacher_code(isolated_home)
    assert f":8600/?teacher={code}" in result.stdout and len(code) >= 16


def test_exercise_grid_covers_the_notebook_exercises():
    from fmnist_core.precompute import exercise_grid

    grid = exercise_grid()
    unpadded = sorted(run.model.conv_channels for run in grid if run.model.kind == "cnn" and not run.model.padding
                      and run.train == PRESETS[DEFAULT_PRESET].train)
    assert unpadded == sorted((filters,) * layers for filters in (16, 32, 64) for layers in (1, 2, 3))
    padded = sorted(run.model.conv_channels for run in grid if run.model.kind == "cnn" and run.model.padding == 1)
    assert padded == [(32, 32), (32, 32, 32)]
    assert sum(run.model.kind == "mlp" for run in grid) == 3
    assert len({run.key for run in grid}) == len(grid)
    # The app's default model and the MLP vs CNN page's default pair answer from a precomputed grid.
    assert PRESETS[DEFAULT_PRESET] in grid and mlp_vs_cnn(PRESETS[DEFAULT_PRESET].train)[0] in grid
    # Every step of the guided lesson answers from it too.
    from fmnist_ui.guide import STEPS

    assert {run for step in STEPS for run in step.runs} <= set(grid)


def test_precompute_trains_what_is_missing_then_everything_is_cached(isolated_home, capsys):
    from fmnist_core.precompute import run_precompute

    runs = [tiny_mlp_run(epochs=1, seed=31), tiny_mlp_run(epochs=2, seed=32)]
    assert run_precompute(runs=runs[:1]) == 0
    assert run_precompute(runs=runs) == 0
    output = capsys.readouterr().out
    assert "[1/2] MLP 32 · adam 3e-03 · 1 ep: cached" in output
    assert "epoch  2/2 |████████████████████|" in output and "[2/2] MLP 32 · adam 3e-03 · 2 ep: done" in output


@pytest.mark.slow
def test_cached_answer_does_not_import_torch(isolated_home):
    args = ["train", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--json"]
    assert cli(isolated_home, *args).returncode == 0
    probe = ("import sys, io, contextlib\n"
             "from fmnist_core.cli import main\n"
             "out = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n"
             f"    code = main({args!r})\n"
             "print(code, 'torch' in sys.modules, out.getvalue().splitlines()[-1])\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=subprocess_env(isolated_home),
                            capture_output=True, text=True, timeout=60)
    code, torch_loaded, final = result.stdout.split(" ", 2)
    assert code == "0" and torch_loaded == "False", result.stderr
    assert json.loads(final)["cached"] is True


@pytest.mark.slow
def test_damaged_final_checkpoint_is_not_served_from_the_cache(isolated_home):
    from fmnist_core.storage import checkpoint_path

    args = ["train", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--json"]
    first = json.loads(cli(isolated_home, *args).stdout.splitlines()[-1])
    path = checkpoint_path(isolated_home, first["run_id"], 1)
    path.write_bytes(path.read_bytes()[:-10])
    again = json.loads(cli(isolated_home, *args).stdout.splitlines()[-1])
    assert again["cached"] is False and again["status"] == "done"


@pytest.mark.slow
def test_two_commands_asking_for_one_new_spec_train_it_once(isolated_home):
    """#23: two concurrent `train` of one spec both trained it. Now one claims it, the other follows it live."""
    import subprocess

    args = [sys.executable, "-m", "fmnist_core", "train", "--model", "mlp", "--hidden", "32", "--epochs", "3",
            "--lr", "0.003", "--seed", "41", "--json"]
    first, second = (subprocess.Popen(args, cwd=ROOT, env=subprocess_env(isolated_home), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2))
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    finals = [json.loads(stdout.splitlines()[-1]) for stdout, _ in outputs]
    assert all(process.returncode == 0 for process in (first, second)), [stderr for _, stderr in outputs]
    # one trains; the other follows it live, or, when the run ended before it could claim it, answers from the cache
    assert sorted(final["joined"] or final["cached"] for final in finals) == [False, True]
    assert finals[0]["run_id"] == finals[1]["run_id"] and finals[0]["status"] == finals[1]["status"] == "done"
    epochs = [[json.loads(line) for line in stdout.splitlines()[:-1]] for stdout, _ in outputs]
    assert epochs[0] == epochs[1] and [line["epoch"] for line in epochs[0]] == [1, 2, 3]  # the same run, live
    from fmnist_core.cache import open_store

    [record] = open_store(isolated_home).all()
    assert record.status == "done" and len(record.history) == 3


@pytest.mark.slow
def test_a_spec_another_command_finished_while_this_one_started_is_answered_from_the_cache(isolated_home, capsys,
                                                                                          monkeypatch):
    """Seen in the test above: the second command looked in the cache before importing torch, the first finished
    the run during that import, and the second trained it all over again. Here the first look misses as it
    would in that race; the run is already done, so the command must answer from the cache, not train."""
    from fmnist_core import cli as cli_module
    from fmnist_core.cache import open_store

    args = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "2", "--lr", "0.003", "--seed", "43", "--json"]
    first = cli(isolated_home, *args)
    assert first.returncode == 0, first.stderr
    trained = [json.loads(line) for line in first.stdout.splitlines()]
    started_at = open_store(isolated_home).all()[0].started_at
    monkeypatch.setattr(cli_module, "cached_result", lambda *_: None)  # the look made before the run finished
    assert cli_module.main(args) == 0
    answered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert answered[-1]["cached"] is True and answered[-1]["run_id"] == trained[-1]["run_id"]
    assert answered[:-1] == trained[:-1]
    [record] = open_store(isolated_home).all()
    assert record.started_at == started_at and len(record.history) == 2  # not trained again


@pytest.mark.slow
def test_a_spec_finished_while_the_cluster_answered_is_answered_from_the_cache_not_sent(isolated_home, capsys,
                                                                                         monkeypatch):
    """Review of the test above: on a cluster (FMNIST_RAY_ADDRESS) the command went straight from its first look
    to the claim, which takes a finished run back, so the spec was sent to the cluster to train again."""
    from fmnist_core import cli as cli_module
    from fmnist_core.cache import cached_result, open_store

    class ClusterThatMustNotTrain:
        where, address = "cluster", "127.0.0.1:6379"

        def launch(self, key, **_):
            raise AssertionError(f"run {key} sent to the cluster to train again")

    args = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "2", "--lr", "0.003", "--seed", "44", "--json"]
    first = cli(isolated_home, *args)
    assert first.returncode == 0, first.stderr
    trained = [json.loads(line) for line in first.stdout.splitlines()]
    looks = []

    def first_look_misses(*arguments):
        looks.append(arguments)
        return None if len(looks) == 1 else cached_result(*arguments)

    monkeypatch.setattr(cli_module, "cached_result", first_look_misses)
    monkeypatch.setattr(cli_module, "cluster_backend", lambda *_: ClusterThatMustNotTrain())
    assert cli_module.main(args) == 0
    answered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert answered[-1]["cached"] is True and answered[:-1] == trained[:-1]
    [record] = open_store(isolated_home).all()
    assert record.status == "done" and len(record.history) == 2
