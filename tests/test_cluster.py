"""Training on a real local Ray cluster (ray.cluster_utils: a head and worker nodes on this machine), through the
app's job manager and the CLI. Ray binds the machine's own address unless its network namespace has only the
loopback interface, so these tests run only there (`make test` runs the suite under `unshare -n`): no traffic
leaves loopback. The cluster starts once for the whole module."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, subprocess_env, tiny_cnn_run, wait_for
from fmnist_core.cache import open_store
from fmnist_core.jobs import JobManager

ray = pytest.importorskip("ray")
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif([name for _, name in socket.if_nameindex()] != ["lo"],
                       reason="Ray would bind a non-loopback address here; run under `unshare -n` (make test)"),
]



@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    from fmnist_core.backends.ray_cluster import connect

    local = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})  # the head trains nothing
    local.add_node(num_cpus=2)
    connect(local.address)
    yield local
    ray.shutdown()
    local.shutdown()


@pytest.fixture
def manager(cluster, isolated_home):
    from fmnist_core.backends.ray_cluster import RayBackend

    jobs = JobManager(isolated_home, backend=RayBackend(isolated_home, open_store(isolated_home), cluster.address))
    yield jobs
    jobs.shutdown()


def test_a_run_trains_on_the_cluster_through_the_job_manager(manager, isolated_home):
    from fmnist_core.runs import load_run_checkpoint
    from fmnist_core.storage import resume_path

    run = tiny_cnn_run(epochs=2, seed=41)
    assert manager.submit(run, owner="student").state == "queued"
    assert wait_for(lambda: manager.store.get(run.key).status == "done")
    record = manager.store.get(run.key)
    assert record.backend == "ray" and record.node == "127.0.0.1" and record.device == "cpu"
    assert [metrics.epoch for metrics in record.history] == [1, 2] and record.history[-1].val_acc > 0.75
    # streamed back into this server's own store and folder: Explore loads any epoch, the cache answers
    assert load_run_checkpoint(isolated_home, run.key, 1).epoch == 1
    assert not resume_path(isolated_home, run.key).exists()
    assert wait_for(lambda: not manager.is_active(run.key), 5)
    assert manager.submit(run).state == "cached"


def test_stop_cancels_the_cluster_task_within_a_batch(manager):
    run = tiny_cnn_run(epochs=30, seed=42)
    manager.submit(run, owner="student")
    assert wait_for(lambda: len(manager.store.get(run.key).history) >= 1)
    asked = time.time()
    manager.cancel(run.key, who="student")
    assert wait_for(lambda: manager.store.get(run.key).status == "cancelled", 30)
    assert time.time() - asked < 10  # one batch, not the rest of the epoch
    record = manager.store.get(run.key)
    assert 1 <= len(record.history) < 30 and record.stopped_by == "student"


def test_a_node_that_dies_leaves_the_run_interrupted_and_resume_goes_on_on_another(cluster, manager):
    from fmnist_core.runs import resumable_epoch

    run = tiny_cnn_run(epochs=4, seed=43)
    manager.submit(run, owner="student")
    assert wait_for(lambda: len(manager.store.get(run.key).history) >= 1)
    [worker] = [node for node in cluster.list_all_nodes() if node is not cluster.head_node]
    cluster.remove_node(worker, allow_graceful=False)
    try:
        assert wait_for(lambda: manager.store.get(run.key).status == "interrupted", 60)
    finally:
        cluster.add_node(num_cpus=2)  # another machine joins (and the tests after this one have a worker)
    record = manager.store.get(run.key)
    finished = len(record.history)
    assert 1 <= finished < 4 and "Resume" in record.error
    assert resumable_epoch(manager.home, manager.store, run.key) == finished
    assert manager.submit(run, owner="student", resume=True).state == "queued"
    assert wait_for(lambda: manager.store.get(run.key).status == "done")
    record = manager.store.get(run.key)
    assert [metrics.epoch for metrics in record.history] == [1, 2, 3, 4]


def test_the_cli_trains_on_the_cluster_and_says_so(cluster, isolated_home):
    env = dict(subprocess_env(isolated_home), FMNIST_RAY_ADDRESS=cluster.address)
    done = subprocess.run([sys.executable, "-m", "fmnist_core", "train", "--preset", "seed-pytorch-cnn",
                           "--conv-channels", "8", "--dense", "32", "--epochs", "1", "--lr", "3e-3", "--seed", "44",
                           "--json"], env=env, capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["epoch"] == 1
    assert lines[-1]["backend"] == "ray" and lines[-1]["node"] == "127.0.0.1" and lines[-1]["status"] == "done"


def test_a_cluster_that_does_not_answer_falls_back_to_local_workers(isolated_home):
    """In a fresh process (this one already belongs to the test cluster): a wrong address gives one line and
    local training, within the connect timeout, never a hang."""
    env = dict(subprocess_env(isolated_home), FMNIST_RAY_ADDRESS="127.0.0.1:1", FMNIST_RAY_CONNECT_SECONDS="8")
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "fmnist_core", "train", "--preset", "seed-keras-mlp", "--epochs",
                           "1", "--batch-size", "256", "--json"], env=env, capture_output=True, text=True,
                          timeout=240, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "training on this machine" in done.stderr and "127.0.0.1:1" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["backend"] == "local"
    assert time.time() - started < 120


def test_an_address_where_nothing_listens_is_refused_without_starting_ray(monkeypatch):
    """Before this, ray.init went on connecting in an abandoned thread while the command trained locally, and once
    aborted it (std::bad_alloc in CI). Now nothing of Ray starts for an address that takes no connection."""
    from fmnist_core.backends import ray_cluster

    monkeypatch.setattr(ray_cluster.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray_cluster.ray, "init", lambda **_: pytest.fail("ray.init was called"))
    started = time.time()
    with pytest.raises(ray_cluster.ClusterUnavailable, match=r"127\.0\.0\.1:1 cannot be reached"):
        ray_cluster.connect("127.0.0.1:1")
    assert time.time() - started < ray_cluster.CONNECT_SECONDS


def test_the_job_manager_falls_back_when_the_cluster_is_unreachable(isolated_home, monkeypatch):
    from fmnist_core.backends import select_backend

    if ray.is_initialized():  # this process joined the test cluster: ask about another address in a new one
        script = ("import os; from pathlib import Path; from fmnist_core.backends import select_backend; "
                  "from fmnist_core.cache import open_store; home = Path(os.environ['FMNIST_HOME']); "
                  "backend = select_backend(home, open_store(home), 1, address='127.0.0.1:1'); "
                  "print(backend.name, '|', backend.fallback_reason)")
        env = dict(subprocess_env(isolated_home), FMNIST_RAY_CONNECT_SECONDS="5")
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                              cwd=str(ROOT))
        name, reason = done.stdout.strip().splitlines()[-1].split(" | ")
    else:
        monkeypatch.setenv("FMNIST_RAY_CONNECT_SECONDS", "5")
        backend = select_backend(isolated_home, open_store(isolated_home), 1, address="127.0.0.1:1")
        name, reason = backend.name, backend.fallback_reason
    assert name == "local" and "127.0.0.1:1" in reason
    assert os.environ.get("FMNIST_RAY_ADDRESS") is None


def test_the_page_sends_training_to_the_cluster_and_says_where_it_ran(cluster, isolated_home, monkeypatch,
                                                                       fresh_app_resources):
    """Nothing changes for students: Build & train's Train button, the live curve, then where it trained."""
    from conftest import app
    from fmnist_ui import state
    from fmnist_ui.widgets import spec_to_state

    monkeypatch.setenv("FMNIST_RAY_ADDRESS", cluster.address)
    run = tiny_cnn_run(epochs=1, seed=45)
    at = app(**spec_to_state(run))
    assert state.job_manager().backend.name == "ray"
    [train] = [button for button in at.button if button.label == "Train"]
    train.click().run()
    assert wait_for(lambda: state.store().get(run.key).status == "done")
    at.run()
    assert not at.exception
    assert any("Trained on the cluster's node 127.0.0.1 (CPU)" in element.value for element in at.caption)


def test_a_cluster_that_goes_away_mid_class_is_replaced_by_local_workers(isolated_home):
    """In a fresh process with a cluster of its own: after the cluster is shut down, the next Train still trains
    (locally), and the backend says why."""
    script = """
import os, time
from pathlib import Path
from ray.cluster_utils import Cluster
from conftest import tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.jobs import JobManager
from fmnist_core.backends.ray_cluster import RayBackend, connect
home = Path(os.environ["FMNIST_HOME"])
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
connect(cluster.address)
manager = JobManager(home, backend=RayBackend(home, open_store(home), cluster.address))
cluster.head_node.kill_all_processes(check_alive=False, allow_graceful=False)  # the head machine goes away
run = tiny_mlp_run(epochs=1, seed=46)
manager.submit(run, owner="student")
deadline = time.time() + 180
while manager.store.get(run.key).status in ("queued", "running") and time.time() < deadline:
    time.sleep(0.2)
record = manager.store.get(run.key)
print("RESULT", record.status, record.backend, manager.backend.name, "|", manager.backend.fallback_reason)
os._exit(0)
"""
    env = dict(subprocess_env(isolated_home), FMNIST_RAY_CONNECT_SECONDS="5",
               PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=str(ROOT))
    [result] = [line for line in done.stdout.splitlines() if line.startswith("RESULT")] or [done.stderr[-3000:]]
    status, backend, now, reason = result.replace(" | ", " ").split(" ", 4)[1:]
    assert (status, backend, now) == ("done", "local", "local"), done.stderr[-2000:]
    assert "cluster" in reason
