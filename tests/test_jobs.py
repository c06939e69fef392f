import os
import time

import pytest

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.jobs import JobManager
from fmnist_core.runs import train_run


def wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def manager(isolated_home):
    jobs = JobManager(isolated_home, max_jobs=1)
    yield jobs
    jobs.shutdown()


def test_job_trains_in_a_worker_then_answers_from_cache(manager):
    run = tiny_mlp_run(epochs=1)
    assert manager.submit(run).state == "queued"
    assert manager.submit(run).state == "joined"  # a second browser joins the same job
    assert wait_for(lambda: manager.store.get(run.key).status == "done")
    record = manager.store.get(run.key)
    assert record.history[0].val_acc > 0.7 and record.device == "cpu"
    assert wait_for(lambda: not manager.is_active(run.key), 5)
    assert manager.submit(run).state == "cached"


def test_second_spec_waits_in_queue_and_cancel_stops_within_a_batch(manager):
    long_run = tiny_cnn_run(epochs=30)
    waiting = tiny_mlp_run(epochs=1, seed=11)
    manager.submit(long_run)
    manager.submit(waiting)
    assert manager.queue_position(long_run.key) == 0 and manager.queue_position(waiting.key) == 1
    manager.cancel(waiting.key)
    assert manager.store.get(waiting.key).status == "cancelled"
    assert wait_for(lambda: manager.store.get(long_run.key).status == "running", 60)
    worker_pid = manager.store.get(long_run.key).pid
    own = os.getpriority(os.PRIO_PROCESS, 0)
    # The worker yields the CPU to the server.
    assert wait_for(lambda: os.getpriority(os.PRIO_PROCESS, worker_pid) == min(19, own + 10), 10)
    manager.cancel(long_run.key)
    assert wait_for(lambda: manager.store.get(long_run.key).status == "cancelled", 30)


def test_worker_failure_marks_run_failed_and_server_keeps_serving(manager, tmp_path, monkeypatch):
    broken = tmp_path / "broken-data"
    broken.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (broken / name).write_bytes(b"\x00\x00\x08\x03 definitely not an idx file")
    monkeypatch.setenv("FMNIST_DATA_DIR", str(broken))
    run = tiny_mlp_run(epochs=1, seed=5)
    manager.submit(run)
    assert wait_for(lambda: manager.store.get(run.key).status == "failed", 60)
    assert "train-images-idx3-ubyte" in manager.store.get(run.key).error
    monkeypatch.delenv("FMNIST_DATA_DIR")
    healthy = tiny_mlp_run(epochs=1, seed=6)
    manager.submit(healthy)
    assert wait_for(lambda: manager.store.get(healthy.key).status == "done")


def test_runs_left_running_by_a_dead_server_are_marked_interrupted(isolated_home):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=1, seed=9)
    store.queue(run, params=1)
    store.mark_running(run.key, "cpu", pid=999_999)
    jobs = JobManager(isolated_home, max_jobs=1)
    try:
        assert store.get(run.key).status == "interrupted"
    finally:
        jobs.shutdown()


def test_an_interrupted_run_resumes_from_its_last_checkpoint_after_a_restart(isolated_home, small_data):
    store = open_store(isolated_home)
    run = tiny_mlp_run(epochs=3, seed=12)
    finished = []
    train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 2)
    store.mark_running(run.key, "cpu", pid=999_999)  # as if the server died while epoch 3 was training
    jobs = JobManager(isolated_home, max_jobs=1)
    try:
        assert store.get(run.key).status == "interrupted"
        assert jobs.submit(run, owner="student", resume=True).state == "queued"
        assert store.get(run.key).history[:2] == finished  # kept while it waits
        assert wait_for(lambda: store.get(run.key).status == "done")
    finally:
        jobs.shutdown()
    record = store.get(run.key)
    assert [m.epoch for m in record.history] == [1, 2, 3] and record.history[:2] == finished
    assert "resuming after epoch 2" in (isolated_home / "runs" / run.key / "worker.log").read_text()
