"""The run store's interface on both databases (issue #23): every test runs on the SQLite file and on a real
PostgreSQL server the suite starts itself (conftest.postgres)."""
import threading
import time

import pytest

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.lease import LEASE_SECONDS, Heartbeat
from fmnist_core.metrics import EpochMetrics
from fmnist_core.runstore import SCHEMA_VERSION, RunStoreError

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def store(isolated_home):
    return open_store(isolated_home)


def metrics(epoch: int, accuracy: float = 0.8) -> EpochMetrics:
    return EpochMetrics(epoch, 0.5, accuracy, 0.4, accuracy, 1.0, 1000.0)


def test_a_run_is_recorded_epoch_by_epoch_and_read_back_by_column_name(store):
    run = tiny_cnn_run(epochs=2)
    assert store.claim(run, 1234, "driver-a", LEASE_SECONDS, owner="ana")
    store.mark_running(run.key, "cpu", pid=1)
    store.set_epoch_images(run.key, 3000)
    assert store.get(run.key).epoch_images == 3000
    store.add_epoch(run.key, metrics(1, 0.7), checkpoint_sha256="a" * 64)
    store.add_epoch(run.key, metrics(1, 0.75), checkpoint_sha256="b" * 64)  # an epoch written again: replaced
    store.add_epoch(run.key, metrics(2, 0.8))
    store.finish(run.key, "done")
    record = store.get(run.key)
    assert (record.status, record.params, record.owner, record.device) == ("done", 1234, "ana", "cpu")
    assert [m.val_acc for m in record.history] == [0.75, 0.8] and store.checkpoint_sha256(run.key, 1) == "b" * 64
    assert record.created_at > 1.7e9 and abs(record.finished_at - time.time()) < 60  # times keep their seconds
    assert [r.key for r in store.all()] == [run.key] and record.driver is None  # a finished run has no driver


def test_two_claims_at_the_same_moment_train_it_once(store, isolated_home):
    """Eight threads (stand-ins for pages, replicas, commands) ask for one new spec at once: one claim wins."""
    run = tiny_mlp_run()
    others = [open_store(isolated_home) for _ in range(8)]  # each with its own connections
    results, barrier = [], threading.Barrier(len(others))

    def ask(other, name):
        barrier.wait()
        results.append(other.claim(run, 10, name, LEASE_SECONDS))

    threads = [threading.Thread(target=ask, args=(other, f"driver-{number}")) for number, other in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_a_finished_or_abandoned_run_can_be_claimed_again_a_live_one_cannot(store):
    run = tiny_mlp_run()
    assert store.claim(run, 10, "first", LEASE_SECONDS)
    assert not store.claim(run, 10, "second", LEASE_SECONDS)
    with store.transaction() as connection:  # the first driver went silent long ago
        connection.execute("UPDATE runs SET heartbeat_at=? WHERE key=?", (time.time() - 2 * LEASE_SECONDS, run.key))
    assert store.expired(LEASE_SECONDS) == [run.key]
    assert store.claim(run, 10, "second", LEASE_SECONDS) and store.get(run.key).driver == "second"
    store.finish(run.key, "done")
    assert store.claim(run, 10, "third", LEASE_SECONDS)  # trained again on purpose (--no-cache)


def test_a_heartbeat_keeps_a_busy_drivers_runs_alive(store):
    run = tiny_mlp_run()
    with Heartbeat(store, "beating", seconds=0.05) as heartbeat:
        assert store.claim(run, 10, heartbeat.driver, LEASE_SECONDS)
        heartbeat.hold(run.key)
        with store.transaction() as connection:
            connection.execute("UPDATE runs SET heartbeat_at=? WHERE key=?", (time.time() - 100, run.key))
        time.sleep(0.5)
        assert store.expired(LEASE_SECONDS) == []  # renewed since
        assert store.get(run.key).heartbeat_at > time.time() - 5


def test_a_stop_asked_from_another_process_is_seen_by_the_driver(store):
    run = tiny_mlp_run()
    store.claim(run, 10, "driver", LEASE_SECONDS, owner="ana")
    assert store.stops_requested([run.key]) == []
    store.request_stop(run.key, "teacher")
    assert store.stops_requested([run.key]) == [run.key]
    record = store.get(run.key)
    assert record.stop_requested and record.stopped_by == "teacher"


def test_evicted_and_deleted_runs(store):
    kept, evicted = tiny_mlp_run(), tiny_cnn_run()
    for run in (kept, evicted):
        store.claim(run, 10, "d", LEASE_SECONDS)
        store.add_epoch(run.key, metrics(1), checkpoint_sha256="c" * 64)
        store.finish(run.key, "done")
    store.mark_evicted(evicted.key, "disk quota")
    record = store.get(evicted.key)
    assert record.status == "evicted" and record.history and store.checkpoint_sha256(evicted.key, 1) is None
    store.delete(evicted.key)
    assert store.get(evicted.key) is None and [r.key for r in store.all()] == [kept.key]


def test_an_older_schema_is_migrated_on_open(isolated_home):
    """Version 4 (before classes and leases) opens as the current version on either database."""
    from fmnist_core import runstore
    from fmnist_core.database import open_database

    database = open_database(isolated_home)
    old_schema = (runstore.SCHEMA.split("CREATE TABLE IF NOT EXISTS classes")[0]
                  .replace(",\n    last_used_at DOUBLE PRECISION,\n    driver TEXT,\n    heartbeat_at DOUBLE PRECISION,"
                           "\n    stop_requested INTEGER NOT NULL DEFAULT 0\n", "\n")
                  .replace("    class_code TEXT NOT NULL DEFAULT '',\n", ""))
    assert "driver" not in old_schema and "class_code" not in old_schema
    with database.transaction() as connection:
        database.create(connection, old_schema)
        database.set_schema_version(connection, 4)
    store = open_store(isolated_home)
    with store.transaction() as connection:
        assert store.database.schema_version(connection) == SCHEMA_VERSION
        assert {"driver", "heartbeat_at", "last_used_at"} <= store.database.columns(connection, "runs")
    assert store.claim(tiny_mlp_run(), 10, "d", LEASE_SECONDS)


def test_an_unreachable_database_is_one_clear_error_without_its_password(isolated_home, monkeypatch, database_url):
    from conftest import free_port

    if database_url is None:
        pytest.skip("the SQLite half has no server to miss")
    monkeypatch.setenv("FMNIST_DATABASE_URL", f"postgresql://teacher:hunter2@127.0.0.1:{free_port()}/nothing")
    started = time.monotonic()
    with pytest.raises(RunStoreError) as refused:
        open_store(isolated_home)
    assert refused.value.code == "unavailable" and "hunter2" not in str(refused.value)
    assert "127.0.0.1" in str(refused.value) and time.monotonic() - started < 30


@pytest.mark.parametrize("url", ["postgresql://fmnist:2024/Winter!@db:5432/fmnist",
                                 "postgresql://a:b@c:d@db/fmnist", "postgresql://user:pa%40ss@db:5432/fmnist"])
def test_a_password_never_reaches_a_message(url):
    from fmnist_core.database import safe_url

    shown = safe_url(url)
    assert "Winter" not in shown and "2024" not in shown and ":b" not in shown and "pa" not in shown
    assert shown.endswith("/fmnist") and "db" in shown


def test_a_store_made_before_a_metric_existed_gains_its_column(store, isolated_home):
    """A metric declared in EpochMetrics after a store was made (here: its column dropped) gets its column when the
    store opens, on either database, and is recorded from then on."""
    run = tiny_mlp_run()
    assert store.claim(run, 10, "driver-a", LEASE_SECONDS)
    with store.transaction() as connection:
        connection.execute("ALTER TABLE epochs DROP COLUMN images_per_second")
        assert "images_per_second" not in store.database.columns(connection, "epochs")
    reopened = open_store(isolated_home)
    with reopened.transaction() as connection:
        assert "images_per_second" in reopened.database.columns(connection, "epochs")
    reopened.add_epoch(run.key, metrics(1))
    assert [m.images_per_second for m in reopened.get(run.key).history] == [1000.0]
