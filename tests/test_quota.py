"""Bounded disk (issue #22: each distinct model file added 25.7 MB with no quota, about 20 GB an hour from one tab)."""
import time

import pytest

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import cached_result, open_store
from fmnist_core.classes import ClassStore
from fmnist_core.limits import DEFAULT_QUOTA_GB, QUOTA_VARIABLE, disk_quota_bytes
from fmnist_core.metrics import EpochMetrics
from fmnist_core.quota import QuotaFull, delete_run, disk_use, estimated_bytes, make_room
from fmnist_core.runs import train_run
from fmnist_core.storage import run_folder


def stored_run(home, store, run, megabytes: float, used_at: float):
    """A finished run whose folder holds `megabytes` of files, last used at `used_at`."""
    store.queue(run, 100)
    store.add_epoch(run.key, EpochMetrics(1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0))
    store.finish(run.key, "done")
    folder = run_folder(home, run.key)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "epoch_001.pt").write_bytes(b"\0" * int(megabytes * 2**20))
    with store.transaction() as connection:
        connection.execute("UPDATE runs SET last_used_at=? WHERE key=?", (used_at, run.key))


def runs(count):
    return [tiny_mlp_run(seed=seed) for seed in range(count)]


def test_the_least_recently_used_run_is_evicted_first_and_its_row_says_so(isolated_home):
    store = open_store(isolated_home)
    old, recent = runs(2)
    stored_run(isolated_home, store, old, 3, used_at=100)
    stored_run(isolated_home, store, recent, 3, used_at=200)
    assert disk_use(isolated_home, quota=8 * 2**20).used == 6 * 2**20
    evicted = make_room(isolated_home, store, 3 * 2**20, quota=8 * 2**20)
    assert evicted == [old.key]
    record = store.get(old.key)
    assert record.status == "evicted" and "disk quota" in record.error
    assert not run_folder(isolated_home, old.key).exists() and run_folder(isolated_home, recent.key).exists()
    assert cached_result(store, isolated_home, old) is None  # asking again trains it again


def test_runs_on_a_board_or_training_are_never_evicted_and_what_cannot_fit_is_refused(isolated_home):
    store = open_store(isolated_home)
    shown, active, free = runs(3)
    stored_run(isolated_home, store, shown, 3, used_at=1)
    classes = ClassStore(store)
    classes.join("ana", classes.create("Period 1"))
    store.post(shown.key, "ana")  # on period 1's board
    stored_run(isolated_home, store, active, 3, used_at=2)
    store.queue(active, 100, keep_history=True)  # training again (resumed)
    stored_run(isolated_home, store, free, 1, used_at=3)
    with pytest.raises(QuotaFull):
        make_room(isolated_home, store, 5 * 2**20, quota=8 * 2**20)
    assert store.get(free.key).status == "done"  # nothing evicted when it would not have been enough
    store.clear_board(classes.class_of("ana"))
    assert shown.key in make_room(isolated_home, store, 4 * 2**20, quota=8 * 2**20)


def test_a_model_file_that_does_not_fit_is_refused_with_the_apps_message(isolated_home, small_data):
    from fmnist_core.transfer import ModelFileError, export_run, import_run

    home_store = open_store(isolated_home)
    run = tiny_cnn_run()
    train_run(run, home_store, isolated_home, data=small_data)
    raw = export_run(isolated_home, home_store, run.key)
    other_home = isolated_home / "other"
    other_store = open_store(other_home)
    with pytest.raises(ModelFileError) as refused:
        import_run(other_home, other_store, raw, data=small_data, quota=len(raw) // 2)
    assert refused.value.code == "disk_quota"
    assert other_store.get(run.key) is None and disk_use(other_home, quota=1).used == 0  # nothing written
    imported = import_run(other_home, other_store, raw, data=small_data, quota=10 * len(raw))
    assert imported.record.origin == "imported"
    delete_run(other_home, other_store, run.key)  # the teacher deletes the imported model
    assert other_store.get(run.key) is None and disk_use(other_home, quota=1).used == 0


def test_a_job_that_the_quota_cannot_hold_is_refused_before_it_is_queued(isolated_home, monkeypatch):
    from fmnist_core.jobs import JobManager

    monkeypatch.setenv(QUOTA_VARIABLE, "0.001")  # 1 MiB: less than 30 epochs of this CNN write
    manager = JobManager(isolated_home, max_jobs=1)
    try:
        run = tiny_cnn_run(epochs=30)
        assert estimated_bytes(4000, 30) > 2**20 * 0.4
        with pytest.raises(QuotaFull):
            manager.submit(run, owner="ana")
        assert manager.store.get(run.key) is None and not manager.is_active(run.key)
    finally:
        manager.shutdown()


def test_the_quota_setting_is_read_in_one_place():
    assert disk_quota_bytes({}) == int(DEFAULT_QUOTA_GB * 2**30)
    assert disk_quota_bytes({QUOTA_VARIABLE: "2.5"}) == int(2.5 * 2**30)
    for wrong in ("abc", "-1", "0"):
        with pytest.raises(ValueError, match=QUOTA_VARIABLE):
            disk_quota_bytes({QUOTA_VARIABLE: wrong})


def test_estimates_cover_what_a_real_run_writes(isolated_home, small_data):
    from fmnist_core.models import build_model
    from fmnist_core.quota import run_bytes

    run = tiny_cnn_run(epochs=2)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    written = run_bytes(isolated_home, run.key)
    estimate = estimated_bytes(build_model(run.model).param_count, 2)
    assert written <= estimate < 4 * written + 2**20


def test_runs_the_servers_board_shows_for_the_command_line_are_not_evicted(isolated_home):
    """Review of #22: the board showed precompute's runs (queued by the command line, never posted) and the quota
    evicted them first, being the least recently used."""
    store = open_store(isolated_home)
    precomputed = tiny_mlp_run(seed=3)
    stored_run(isolated_home, store, precomputed, 3, used_at=1)
    with store.transaction() as connection:
        connection.execute("UPDATE runs SET owner='precompute', created_at=? WHERE key=?",
                           (time.time(), precomputed.key))
    assert [entry.record.key for entry in store.board()] == [precomputed.key]
    assert precomputed.key in store.keys_on_boards()
    with pytest.raises(QuotaFull):
        make_room(isolated_home, store, 6 * 2**20, quota=8 * 2**20)
    assert store.get(precomputed.key).status == "done"
