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
    assert set(steps) >= {label for label, _, _ in COLD_STEPS} | {"training (2 epochs)", "evaluating the test set"}
    assert float(steps["training (2 epochs)"]) > float(steps["evaluating the test set"]) > 0
