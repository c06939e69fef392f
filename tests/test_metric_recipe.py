"""A per-epoch metric is declared in one place (EpochMetrics): a version of the app with one more metric, made by
adding one field in a fresh interpreter, opens a store and a model file made without it, records the metric, and
writes a model file that this version still imports. Old checkpoints stay readable across a format change."""
import io
import json
import subprocess
import sys

import torch

from conftest import subprocess_env, tiny_cnn_run
from fmnist_core import checkpoints
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run
from fmnist_core.saved_runs import load_run_checkpoint
from fmnist_core.transfer import export_run, import_run

WITH_ONE_MORE_METRIC = """
import dataclasses, json, sys
from pathlib import Path

import fmnist_core.metrics as metrics


@dataclasses.dataclass(frozen=True)
class WithGradNorm(metrics.EpochMetrics):
    grad_norm: float | None = None  # the one declaration of the new metric


metrics.EpochMetrics = WithGradNorm
metrics.METRIC_FIELDS = tuple(field.name for field in dataclasses.fields(WithGradNorm))

from fmnist_core.cache import open_store  # noqa: E402  (everything below reads the declaration above)
from fmnist_core.transfer import export_run, import_run  # noqa: E402

home, key, old_file, new_file = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
store = open_store(home)  # made before the metric existed
before = store.get(key).history
last = WithGradNorm(**{**dataclasses.asdict(before[-1]), "grad_norm": 0.25})
store.add_epoch(key, last, checkpoint_sha256=None)
after = store.get(key).history
elsewhere = Path(sys.argv[5])
imported = import_run(elsewhere, open_store(elsewhere), old_file.read_bytes()).record
new_file.write_bytes(export_run(home, store, key))
print(json.dumps({"before": [m.grad_norm for m in before], "after": [m.grad_norm for m in after],
                  "imported": [m.grad_norm for m in imported.history],
                  "same_curve": [m.val_acc for m in imported.history] == [m.val_acc for m in before]}))
"""


def test_one_more_metric_declared_in_one_place_reads_old_stores_and_files_and_old_versions_read_its_files(
        isolated_home, small_data, tmp_path):
    run = tiny_cnn_run(epochs=2)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    old_file, new_file = tmp_path / "old.pt", tmp_path / "new.pt"
    old_file.write_bytes(export_run(isolated_home, store, run.key))
    result = subprocess.run([sys.executable, "-c", WITH_ONE_MORE_METRIC, str(isolated_home), run.key,
                             str(old_file), str(new_file), str(tmp_path / "elsewhere")],
                            capture_output=True, text=True, timeout=300, env=subprocess_env(isolated_home))
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"before": [None, None], "after": [None, 0.25], "imported": [None, None], "same_curve": True}
    payload = torch.load(io.BytesIO(new_file.read_bytes()), weights_only=True)
    assert payload["history_fields"][-1] == "grad_norm"
    # this version, which knows no grad_norm, imports the newer version's file and keeps every metric it knows
    classroom = tmp_path / "classroom"
    record = import_run(classroom, open_store(classroom), new_file.read_bytes()).record
    assert record.history == open_store(isolated_home).get(run.key).history


def test_a_checkpoint_of_the_previous_format_still_opens_after_the_format_is_raised(
        isolated_home, small_data, monkeypatch):
    run = tiny_cnn_run(epochs=1)
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    raised = (*checkpoints.CHECKPOINT_FORMATS, "fmnist-explorer-checkpoint/2")
    monkeypatch.setattr(checkpoints, "CHECKPOINT_FORMATS", raised)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_FORMAT", checkpoints.CHECKPOINT_FORMATS[-1])
    opened = load_run_checkpoint(isolated_home, run.key)  # written as format 1, read by a version writing 2
    assert opened.run == run and opened.epoch == 1


def test_a_model_file_from_before_curves_named_their_columns_still_imports(isolated_home, small_data, tmp_path):
    """Files exported before `history_fields` hold the seven metrics of UNNAMED_CURVE_FIELDS, in that order."""
    run = tiny_cnn_run(epochs=1)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    payload = torch.load(io.BytesIO(export_run(isolated_home, store, run.key)), weights_only=True)
    del payload["history_fields"]
    old = io.BytesIO()
    torch.save(payload, old)
    classroom = tmp_path / "classroom"
    record = import_run(classroom, open_store(classroom), old.getvalue(), data=small_data).record
    assert record.history == store.get(run.key).history
