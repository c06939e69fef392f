import time

import pytest
import torch

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import load_run_checkpoint, resumable_epoch, train_run
from fmnist_core.runstore import RunStoreError
from fmnist_core.storage import checkpoint_path, resume_path, saved_epochs


def test_train_then_cached_without_training(isolated_home, small_data):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=2)
    first = train_run(run, store, isolated_home, data=small_data)
    assert not first.cached and first.record.status == "done"
    assert [m.epoch for m in first.record.history] == [1, 2]
    assert saved_epochs(isolated_home, run.key) == [1, 2]
    started = time.perf_counter()
    second = train_run(run, store, isolated_home, data=small_data, on_epoch=lambda m: pytest.fail("trained"))
    assert second.cached and time.perf_counter() - started < 1.0
    assert second.record.history == first.record.history


def test_corrupt_final_checkpoint_is_discarded_and_retrained(isolated_home, small_data):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=1)
    train_run(run, store, isolated_home, data=small_data)
    checkpoint_path(isolated_home, run.key, 1).write_bytes(b"garbage")
    again = train_run(run, store, isolated_home, data=small_data)
    assert not again.cached and again.record.status == "done"
    load_run_checkpoint(isolated_home, run.key)  # readable again


def test_cancelled_run_keeps_epochs_and_status(isolated_home, small_data):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=3)
    finished = []
    result = train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
                       should_stop=lambda: len(finished) >= 1)
    assert result.record.status == "cancelled"
    assert [m.epoch for m in result.record.history] == [1]
    assert saved_epochs(isolated_home, run.key) == [1]


def test_failure_is_recorded_with_message(isolated_home, small_data):
    store = open_store(isolated_home)

    def explode(metrics):
        raise RuntimeError("injected failure after epoch 1")

    run = tiny_cnn_run(epochs=2)
    with pytest.raises(RuntimeError):
        train_run(run, store, isolated_home, data=small_data, on_epoch=explode)
    record = store.get(run.key)
    assert record.status == "failed" and "injected failure" in record.error


def test_store_lists_runs_and_reports_a_locked_database(isolated_home, small_data):
    import sqlite3

    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=1)
    train_run(run, store, isolated_home, data=small_data)
    assert len(store.all()) == 1
    locker = sqlite3.connect(store.path)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        from fmnist_core.database import SQLiteDatabase

        impatient = type(store)(SQLiteDatabase(store.path, timeout=0.2))
        assert len(impatient.all()) == 1  # WAL: readers are not blocked by a writer
        with pytest.raises(RunStoreError, match="locked"):
            impatient.finish(run.key, "failed", error="x")
    finally:
        locker.rollback()
        locker.close()


def test_store_without_digests_is_checked_by_loading_once(isolated_home, small_data):
    from fmnist_core.cache import cached_result

    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=1)
    train_run(run, store, isolated_home, data=small_data)
    store.set_checkpoint_sha256(run.key, 1, None)  # as written by a version that kept no digests
    assert cached_result(store, isolated_home, run) is not None
    assert store.checkpoint_sha256(run.key, 1) is not None


def test_resume_after_a_cancel_ends_where_an_uninterrupted_run_ends(isolated_home, tmp_path, small_data):
    run = tiny_cnn_run(epochs=3, shuffle=True, schedule="onecycle")
    reference_home = tmp_path / "reference"
    reference = train_run(run, open_store(reference_home), reference_home, data=small_data).record

    store = open_store(isolated_home)
    finished = []
    train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 1)
    assert resumable_epoch(isolated_home, store, run.key) == 1
    resumed = train_run(run, store, isolated_home, data=small_data, resume=True,
                        on_epoch=finished.append).record
    assert resumed.status == "done" and [m.epoch for m in finished] == [1, 2, 3]
    assert resumed.history[0] == finished[0]  # the first epoch's record was kept, not retrained
    assert resumed.history[-1].val_acc == pytest.approx(reference.history[-1].val_acc, abs=2e-3)
    ours = load_run_checkpoint(isolated_home, run.key).model.module.state_dict()
    theirs = load_run_checkpoint(reference_home, run.key).model.module.state_dict()
    for name, weights in theirs.items():
        assert torch.allclose(ours[name], weights, atol=1e-4), name
    assert resumable_epoch(isolated_home, store, run.key) is None  # done: nothing to resume


def test_resume_without_its_state_restarts_from_scratch(isolated_home, small_data):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=2)
    finished = []
    train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 1)
    resume_path(isolated_home, run.key).write_bytes(b"not a resume state")
    assert resumable_epoch(isolated_home, store, run.key) is None
    restarted = []
    record = train_run(run, store, isolated_home, data=small_data, resume=True, on_epoch=restarted.append).record
    assert record.status == "done" and [m.epoch for m in restarted] == [1, 2]


def test_a_store_written_by_the_first_schema_opens_and_migrates(isolated_home):
    """Columns are read by name, so a migrated store (columns appended) reads like a fresh one."""
    import sqlite3

    from fmnist_core.runstore import SCHEMA_VERSION, RunStore

    run = tiny_mlp_run(epochs=1)
    path = isolated_home / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript("""
            CREATE TABLE runs (key TEXT PRIMARY KEY, spec_json TEXT NOT NULL, summary TEXT NOT NULL,
                model_kind TEXT NOT NULL, params INTEGER NOT NULL, status TEXT NOT NULL, device TEXT, owner TEXT,
                pid INTEGER, error TEXT, created_at REAL NOT NULL, started_at REAL, finished_at REAL);
            CREATE TABLE epochs (key TEXT NOT NULL, epoch INTEGER NOT NULL, train_loss REAL, train_acc REAL,
                val_loss REAL, val_acc REAL, epoch_seconds REAL, images_per_second REAL, PRIMARY KEY (key, epoch));
        """)
        connection.execute("INSERT INTO runs VALUES (?, ?, 's', 'mlp', 10, 'done', 'cpu', 'me', NULL, NULL, 1.0, "
                           "2.0, 3.0)", (run.key, run.canonical_json()))
        connection.execute("INSERT INTO epochs VALUES (?, 1, 0.5, 0.8, 0.4, 0.85, 1.5, 40000.0)", (run.key,))
    store = RunStore(path)
    record = store.get(run.key)
    assert record.run == run and record.origin == "trained" and record.verified and record.owner == "me"
    assert record.history[0].val_acc == 0.85 and record.history[0].images_per_second == 40000.0
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.add_epoch(run.key, record.history[0], checkpoint_sha256="ab" * 32)
    assert store.checkpoint_sha256(run.key, 1) == "ab" * 32


def test_a_running_epoch_records_how_many_images_it_has_done(isolated_home, small_data, monkeypatch):
    from fmnist_core import runs

    monkeypatch.setattr(runs, "PROGRESS_SECONDS", 0.0)
    store = open_store(isolated_home)
    run = tiny_cnn_run(epochs=2, batch_size=512)
    seen = []
    result = train_run(run, store, isolated_home, data=small_data,
                       should_stop=lambda: seen.append(store.get(run.key).epoch_images) and False)
    assert result.record.status == "done"
    during = [images for images in seen if images is not None]
    assert during[:3] == [512, 1024, 1536] and max(during) == 5632  # 6,000 images in batches of 512
    assert seen.count(None) == 2  # each epoch's first batch: nothing done yet
    assert result.record.epoch_images is None  # a finished run shows no progress inside an epoch


def test_a_checkpoint_that_is_not_the_file_written_is_refused_when_read(isolated_home, small_data):
    """#23: on a shared home another replica reads checkpoints it did not write: each is checked against the
    SHA-256 recorded in the store."""
    from fmnist_core.runs import load_run_checkpoint
    from fmnist_core.storage import CheckpointError, checkpoint_path

    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=1)
    train_run(run, store, isolated_home, data=small_data)
    assert load_run_checkpoint(isolated_home, run.key, store=store).epoch == 1
    path = checkpoint_path(isolated_home, run.key, 1)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF  # one byte changed on the way (still a readable zip, perhaps)
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_run_checkpoint(isolated_home, run.key, store=store)
