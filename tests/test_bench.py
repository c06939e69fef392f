"""`bench`'s cold-command section (issue #26): it runs the real command and says where the seconds go. Figures are
printed, never asserted against a clock; this checks that the section runs and reads the command's own output."""
import re

import pytest


@pytest.mark.slow
def test_the_cold_command_section_times_every_step_of_a_real_train_command(capsys, isolated_home):
    from fmnist_core.bench import COLD_STEPS, cold_command_seconds

    cold_command_seconds(rounds=1)
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy (\d+\.\d+)%", printed).group(1))
    assert accuracy > 85  # two epochs of the default preset: about 90 %
    steps = dict(re.findall(r"^  (\S.*?)\s+(-?\d+\.\d+) s$", printed, re.M))
    assert set(steps) >= {label for label, _ in COLD_STEPS} | {"training (2 epochs)", "evaluating the test set"}
    assert float(steps["training (2 epochs)"]) > float(steps["evaluating the test set"]) > 0
    assert float(steps["the app's modules"]) > 0  # timed in place, never a difference that noise can turn negative


@pytest.mark.slow
def test_the_class_benchmark_trains_different_runs_at_once_and_compares_them_with_the_cpu(tmp_path):
    """benchmarks/class_runs.py, which gpu_check.sh runs on a lent GPU, on this machine's CPU with small sizes: it
    must work the day a GPU is there."""
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "class_runs.py"), "--runs", "2", "--epochs",
                           "1", "--compare-cpu", "1", "--home", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 2 runs done in" in done.stdout and "trained on cpu" in done.stdout
    accuracies = [float(value) for value in re.findall(r"seed \d+: (\d+\.\d+)%", done.stdout)]
    assert len(accuracies) == 2 and min(accuracies) > 70  # one epoch of a small CNN
    [difference] = re.findall(r"\(difference (\d+\.\d+) points\)", done.stdout)
    assert float(difference) < 0.5  # the same device here: the same run twice, so (near) the same accuracy


@pytest.mark.slow
def test_the_one_epoch_recipe_benchmark_trains_a_recipe_and_says_whether_it_reaches_90():
    """benchmarks/one_epoch_recipes.py on one recipe (a whole epoch: it never skips images), and a refusal of a
    value outside the core's choices."""
    import subprocess
    import sys

    from conftest import ROOT

    script = str(ROOT / "benchmarks" / "one_epoch_recipes.py")
    done = subprocess.run([sys.executable, script, "--batches", "128", "--lrs", "8e-3", "--smoothing", "0.1"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    [accuracy] = re.findall(r"test accuracy (\d+\.\d+)%", done.stdout)
    assert 80 < float(accuracy) < 95
    assert re.search(r"reach 90 % in one epoch: [01] of 1", done.stdout)
    refused = subprocess.run([sys.executable, script, "--batches", "100"], capture_output=True, text=True,
                             timeout=120, cwd=ROOT)
    assert refused.returncode == 2 and "batch must be among" in refused.stderr
