"""The exercise grid through local workers and through a Ray cluster on this machine, in one run (by hand):

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python benchmarks/cluster_grid.py'

Each half starts from a fresh home and sends the whole grid to the app's job manager at once. It prints the total
wall time and, per run, the time between the run starting to train and its end that was not spent in an epoch
(worker or task start-up, checkpoints, for Ray the streaming back): Ray's overhead is that, over the local
workers'. One worker node of 2 CPUs: the cluster has the same cores as the local workers."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_grid(manager, runs) -> float:
    started = time.perf_counter()
    for run in runs:
        manager.submit(run, owner="bench")
    while any(manager.store.get(run.key).status in ("queued", "running") for run in runs):
        time.sleep(0.2)
    return time.perf_counter() - started


def report(name: str, manager, runs, wall: float) -> None:
    records = [manager.store.get(run.key) for run in runs]
    overheads = [record.finished_at - record.started_at - record.total_seconds for record in records]
    epochs = sum(len(record.history) for record in records)
    training = sum(record.total_seconds for record in records)
    statuses = {record.status for record in records}
    print(f"{name}: {len(records)} runs ({', '.join(sorted(statuses))}), {epochs} epochs, wall {wall:.1f} s, "
          f"in epochs {training:.1f} s; outside epochs per run: median {statistics.median(overheads):.2f} s, "
          f"max {max(overheads):.2f} s; per epoch {sum(overheads) / epochs:.2f} s; wall not in an epoch, per run "
          f"{(wall - training) / len(records):.2f} s, per epoch {(wall - training) / epochs:.2f} s", flush=True)


def main() -> int:
    import ray
    from ray.cluster_utils import Cluster

    from fmnist_core.backends.ray_cluster import RayBackend, connect
    from fmnist_core.cache import open_store
    from fmnist_core.jobs import JobManager
    from fmnist_core.precompute import exercise_grid

    runs = exercise_grid()
    home = Path(tempfile.mkdtemp(prefix="fmnist-grid-local-"))
    local = JobManager(home)
    print(f"local workers: {local.max_jobs} at a time", flush=True)
    report("local workers", local, runs, run_grid(local, runs))
    local.shutdown()

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    cluster.add_node(num_cpus=2)
    connect(cluster.address)
    home = Path(tempfile.mkdtemp(prefix="fmnist-grid-ray-"))
    on_ray = JobManager(home, backend=RayBackend(home, open_store(home), cluster.address))
    report("Ray cluster (one node, 2 CPUs, 2 per task)", on_ray, runs, run_grid(on_ray, runs))
    on_ray.shutdown()
    ray.shutdown()  # leave the cluster before taking it down
    cluster.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
