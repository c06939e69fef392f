"""Training on a Ray cluster: each run is one Ray generator task that trains on whichever node it lands on (a GPU
when the cluster has one) and streams every finished epoch back (metrics, weights, resume state). This server
writes them into its own run store and checkpoint folder, so nodes need no shared disk and everything else (live
curves, the cache, Explore, Resume) works as with local workers.

How a node gets what it needs: the `fmnist_core` package travels with each task (`runtime_env` py_modules, so
nodes need only the pinned packages, not a copy of the app), and the data set is put into Ray's object store once
by this server and read from there (55 MB of uint8 images: every node gets the very same images, and a lab machine
needs no copy of the data set)."""
from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import ray
from ray.exceptions import RayError, RayTaskError, TaskCancelledError

from ..checkpoints import cpu_weights, resume_point_on_cpu, save_resume_point, save_weights
from ..metrics import EpochMetrics
from ..saved_runs import resume_state
from ..settings import whole_number
from ..storage import checkpoint_path, discard_checkpoints, resume_path
from .base import BackendUnavailable

PACKAGE = Path(__file__).resolve().parents[1]  # fmnist_core, shipped to every node
# How long a cluster may take to answer before the server falls back to local workers.
CONNECT_SECONDS = float(os.environ.get("FMNIST_RAY_CONNECT_SECONDS", "20"))
HEALTH_SECONDS = 5.0
log = logging.getLogger(__name__)


class ClusterUnavailable(BackendUnavailable):
    """The Ray cluster cannot be reached (at start or mid-class); the message says where and why."""


def _within(seconds: float, call: Callable, what: str):
    """Run `call` in a thread and give up after `seconds`: an unreachable cluster must not hang a page."""
    outcome: dict = {}

    def attempt():
        try:
            outcome["value"] = call()
        except Exception as error:  # noqa: BLE001 - reported below, whatever Ray raised
            outcome["error"] = error

    thread = threading.Thread(target=attempt, name="fmnist-ray-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise ClusterUnavailable(f"{what} did not answer within {seconds:.0f} s")
    if "error" in outcome:
        raise ClusterUnavailable(f"{what} cannot be used ({type(outcome['error']).__name__}: {outcome['error']})")
    return outcome.get("value")


def _listening(address: str, seconds: float) -> None:
    """For a plain host:port address, ClusterUnavailable at once when nothing there takes a connection. ray.init
    would go on trying in a thread that cannot be stopped, inside this process, after the fall-back has begun (and
    once aborted a command training locally beside it)."""
    host, separator, port = address.rpartition(":")
    if "://" in address or not separator or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds):
            pass
    except OSError as error:
        raise ClusterUnavailable(f"the Ray cluster at {address} cannot be reached "
                                 f"({error.strerror or type(error).__name__})") from error


def connect(address: str) -> None:
    """Join the cluster as this server's Ray driver (once per process); the `fmnist_core` package is uploaded
    with the job, so every node runs this version of it. ClusterUnavailable when it does not answer."""
    if ray.is_initialized():
        return
    _listening(address, CONNECT_SECONDS)
    # Ray ends a driver whose head has been unreachable for 60 s (std::_Exit): for this server that would be every
    # student's session. Keep waiting instead; the job manager falls back to local workers meanwhile.
    os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(10 * 365 * 24 * 3600))
    _within(CONNECT_SECONDS, lambda: ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False,
                                               runtime_env={"py_modules": [str(PACKAGE)]}),
            f"the Ray cluster at {address}")


@ray.remote(max_retries=0)
def train_on_node(run_json: str, start, data):
    """The Ray task: train on this node, yielding `started`, then an `epoch` (metrics, weights, resume state) after
    every epoch, then `end` (or `error`). Ray's cancel raises KeyboardInterrupt here; training then stops within
    one batch."""
    from ..process import keep_freed_memory_for_reuse
    from ..specs import run_from_json
    from ..training import fit, pick_device

    keep_freed_memory_for_reuse()  # a Ray worker process exists to train
    run = run_from_json(run_json)
    device = pick_device(run.train.device)
    yield {"kind": "started", "node": ray.util.get_node_ip_address(), "device": device.type}
    events: queue.Queue = queue.Queue()
    stop = threading.Event()

    finished: dict = {}  # the epoch whose resume point has not come yet (fit calls on_epoch, then on_resume_point)

    def on_resume_point(point) -> None:
        # One event per epoch with its metrics, weights and resume state together: the server never holds an
        # epoch it could not resume from, whenever the node dies.
        events.put({"kind": "epoch", **finished.pop("epoch"), "point": resume_point_on_cpu(point)})

    def work():
        try:
            result = fit(run, data, device=device, resume=start, should_stop=stop.is_set,
                         on_epoch=lambda metrics, model: finished.update(
                             epoch={"metrics": metrics.to_dict(), "weights": cpu_weights(model)}),
                         on_resume_point=on_resume_point)
            events.put({"kind": "end", "cancelled": result.cancelled})
        except BaseException as error:  # noqa: BLE001 - reported to the server as this run's failure
            events.put({"kind": "error", "error": f"{type(error).__name__}: {error}"[-2000:]})

    trainer = threading.Thread(target=work, name="fmnist-train", daemon=True)
    trainer.start()
    try:
        while True:
            try:
                event = events.get(timeout=0.2)  # short waits: a cancel interrupts this thread promptly
            except queue.Empty:
                continue
            yield event
            if event["kind"] in ("end", "error"):
                return
    finally:
        stop.set()
        trainer.join()


class RayRun:
    """One run on the cluster, driven by a thread of this server; looks like a worker process to the manager."""

    def __init__(self, backend: RayBackend, key: str, resume: bool,
                 on_epoch: Callable[[EpochMetrics], None] | None = None):
        self.backend, self.key, self.resume, self.on_epoch = backend, key, resume, on_epoch
        self.returncode: int | None = None
        self.pid = os.getpid()
        self._generator = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drive, name=f"fmnist-ray-{key}", daemon=True)
        self._thread.start()

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, signum: int = signal.SIGTERM) -> None:
        """Stop: cancel the task; it stops within one batch and the run is recorded cancelled."""
        self._cancel.set()
        if self._generator is not None:
            ray.cancel(self._generator)

    def kill(self) -> None:
        self._cancel.set()
        if self._generator is not None:
            ray.cancel(self._generator, force=True)

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(f"ray task of run {self.key}", timeout)
        return self.returncode

    def _drive(self) -> None:
        store, home, key = self.backend.store, self.backend.home, self.key
        last_epoch = 0
        try:
            record = store.get(key)
            start = resume_state(home, store, key) if self.resume else None
            if start is None:
                discard_checkpoints(home, key)
            run = record.run
            self._generator = train_on_node.options(**self.backend.task_options()).remote(
                run.canonical_json(), start, self.backend.data_ref())
            if self._cancel.is_set():
                ray.cancel(self._generator)
            for reference in self._generator:
                event = ray.get(reference)
                kind = event["kind"]
                if kind == "started":
                    store.mark_running(key, event["device"], self.pid, node=event["node"], backend="ray")
                elif kind == "epoch":  # checkpoint and resume state on disk first, then the store names the epoch
                    metrics = EpochMetrics.from_values(event["metrics"])
                    digest = save_weights(checkpoint_path(home, key, metrics.epoch), run, metrics.epoch,
                                          event["weights"])
                    save_resume_point(resume_path(home, key), key, event["point"])
                    store.add_epoch(key, metrics, checkpoint_sha256=digest)
                    last_epoch = metrics.epoch
                    if self.on_epoch is not None:
                        self.on_epoch(metrics)
                elif kind == "end":
                    store.finish(key, "cancelled" if event["cancelled"] else "done")
                    if not event["cancelled"]:
                        resume_path(home, key).unlink(missing_ok=True)
                    self.returncode = 0
                elif kind == "error":
                    store.finish(key, "failed", error=event["error"])
                    self.returncode = 1
            if self.returncode is None:
                self.returncode = 0
        except TaskCancelledError:
            self._record(key, "cancelled", "stopped on the cluster", -signal.SIGTERM)
        except RayTaskError as error:  # the task itself raised (a device the node lacks, say): resuming cannot help
            self._record(key, "failed", f"{type(error.cause).__name__}: {error.cause}"[-2000:], 1)
        except RayError as error:  # the node died, the cluster went away: the run can go on from its last epoch
            log.warning("run %s on the cluster: %s", key, error)
            self._record(key, "interrupted", f"the cluster node training it stopped after epoch {last_epoch} "
                                             f"({type(error).__name__}); Resume goes on on any node", 1)
        except Exception as error:  # noqa: BLE001 - recorded; the manager's queue must go on
            log.exception("run %s on the cluster failed", key)
            if self._generator is not None:  # this server cannot keep what the task sends: stop it training
                ray.cancel(self._generator)
            self._record(key, "failed", f"{type(error).__name__}: {error}"[-2000:], 1)
        finally:
            if self.returncode is None:  # whatever happened, the manager sees this run end
                self.returncode = 1
            self._done.set()

    def _record(self, key: str, status: str, error: str, returncode: int) -> None:
        """The run's end in the store; if the store itself fails, the monitor marks the run later (its driver,
        this server, no longer holds it)."""
        self.returncode = returncode
        try:
            self.backend.store.finish(key, status, error=error)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("run %s: cannot record its end (%s)", key, status)


class RayBackend:
    """Runs go to the Ray cluster at `address` as generator tasks of `cpus_per_task` CPUs (and one GPU when the
    cluster has GPUs); Ray queues what does not fit, so the manager sends every job at once."""

    name = "ray"
    where = "cluster"  # what the pages say a waiting run waits for: a free worker in the cluster
    max_jobs = 256

    def __init__(self, home: Path, store, address: str, cpus_per_task: int | None = None):
        self.home, self.store, self.address = Path(home), store, address
        self.cpus_per_task = cpus_per_task or whole_number("FMNIST_RAY_CPUS_PER_TASK", 2)
        self.fallback_reason = None
        self._data_ref = None
        self._lock = threading.Lock()
        connect(address)
        self.check()

    def check(self) -> dict:
        """The cluster's resources, or ClusterUnavailable when it does not answer."""
        resources = _within(HEALTH_SECONDS, ray.cluster_resources, f"the Ray cluster at {self.address}")
        if not resources.get("CPU"):
            raise ClusterUnavailable(f"the Ray cluster at {self.address} has no CPU left in it")
        return resources

    def task_options(self) -> dict:
        resources = self.check()
        # Small models leave most of a GPU idle: FMNIST_RAY_GPUS_PER_TASK=0.25 lets four runs share one.
        gpus = float(os.environ.get("FMNIST_RAY_GPUS_PER_TASK", "1")) if resources.get("GPU") else 0
        return {"num_cpus": self.cpus_per_task, "num_gpus": gpus}

    def data_ref(self):
        """The data set in the object store, put there once by this server."""
        with self._lock:
            if self._data_ref is None:
                from ..data import get_dataset

                self._data_ref = ray.put(get_dataset())
            return self._data_ref

    def launch(self, key: str, resume: bool = False, on_epoch=None) -> RayRun:
        self.check()  # ClusterUnavailable: the manager falls back to local workers
        return RayRun(self, key, resume, on_epoch=on_epoch)

    def close(self) -> None:
        """Leave the cluster running: it belongs to the school, not to this server."""
