"""Background training jobs: one worker process per run, a bounded number at once, shared by all sessions; waiting
jobs start in a fair order (fairqueue.py) within each class's cap, and none is queued that the disk quota cannot
hold (quota.py).

The run store is the only channel back: workers write status and epochs there, pages read them.
A worker crash or cancel cannot take the server down, and a server restart leaves no run "running".
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .backends import BackendUnavailable, LocalBackend, select_backend
from .cache import cached_result, open_store
from .classes import ClassStore
from .fairqueue import FairQueue, QueuedJob, QueueFull
from .lease import LEASE_SECONDS, Heartbeat
from .models import build_model
from .quota import estimated_bytes, make_room
from .runstore import RunStoreError
from .saved_runs import resumable_epoch
from .settings import whole_number
from .specs import RunSpec
from .storage import check_run_key, home_error, run_folder

POLL_SECONDS = 0.25
# How often the monitor looks for runs whose driver's lease ran out (a replica, CLI or precompute that died) and
# for stops asked from another app process.
ORPHAN_CHECK_SECONDS = 2.0
TEACHER = "teacher"
log = logging.getLogger(__name__)


class NotYourJob(PermissionError):
    """Stop asked by a session that neither started the job nor is the teacher of its class."""


__all__ = ["JobManager", "NotYourJob", "QueueFull", "Submission", "TEACHER", "run_worker"]


def default_max_jobs() -> int:
    """One job per two cores: a job already uses every core it is given."""
    return whole_number("FMNIST_MAX_JOBS", 0) or max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class Submission:
    key: str
    state: str  # cached | joined | queued


class JobManager:
    """Queue of runs to train; starts worker processes up to `max_jobs` at a time."""

    def __init__(self, home: Path, max_jobs: int | None = None, backend=None, queue: FairQueue | None = None):
        self.home = Path(home)
        self.store = open_store(self.home)
        local_jobs = max_jobs or default_max_jobs()
        # Local worker processes, or a Ray cluster when FMNIST_RAY_ADDRESS names one (and it answers).
        self.backend = backend or select_backend(self.home, self.store, local_jobs)
        self.max_jobs = max_jobs or self.backend.max_jobs
        self.classes = ClassStore(self.store)
        self._lock = threading.Lock()
        self._queue = queue if queue is not None else FairQueue()
        self._jobs: dict[str, QueuedJob] = {}  # key → who asked, in which class (waiting and running jobs)
        self._running: dict[str, subprocess.Popen] = {}
        self._resuming: set[str] = set()
        self._owners: dict[str, str] = {}  # key → the session that started the job (only it may stop it)
        self._exited: dict[str, int] = {}  # workers that ended and whose end is not yet recorded in the store
        self._stopping: set[str] = set()  # jobs someone asked to stop: a worker killed then was cancelled
        self._closed = threading.Event()
        self._last_orphan_check = 0.0
        self._store_back_at = -LEASE_SECONDS  # when the store last answered again after an error
        # this process's lease on the runs it drives: another app process marks them interrupted when it stops
        self.heartbeat = Heartbeat(self.store).start()
        self.mark_orphans_interrupted()
        self._monitor = threading.Thread(target=self._watch, name="fmnist-jobs", daemon=True)
        self._monitor.start()

    @property
    def driver(self) -> str:
        return self.heartbeat.driver

    def mark_orphans_interrupted(self) -> None:
        """Runs left queued/running whose driver's lease ran out (an app process, CLI or precompute that stopped
        or was killed, here or on another machine) are marked interrupted, resumable from any app process,
        instead of showing "training" forever. Not for a lease after the store itself was unreachable: every
        driver's renewals failed then too, and a live one is never taken for dead."""
        if time.monotonic() - self._store_back_at < LEASE_SECONDS:
            return
        with self._lock:
            ours = set(self._running) | set(self._jobs) | set(self._exited)
        for key in self.store.expired(LEASE_SECONDS):
            if key not in ours:
                self.store.finish(key, "interrupted", error="the process that drove it stopped before it finished")

    def submit(self, run: RunSpec, owner: str | None = None, resume: bool = False,
               student: str | None = None) -> Submission:
        """Answer from the cache, join the job already training this spec, or queue a new one (with `resume`,
        one that goes on from the run's last saved epoch when it can). The run goes on the board of `owner`'s
        class. `student` (default: `owner`) is who the fair queue counts: QueueFull when they have as many jobs
        waiting as allowed; QuotaFull when the disk quota cannot hold the run."""
        key = run.key
        with self._lock:
            if key in self._running or key in self._queue:
                state = "joined"
            elif cached_result(self.store, self.home, run) is not None:
                state = "cached"
            else:
                job = QueuedJob(key, student or owner or "", self.classes.class_of(owner) or "", time.time())
                self._queue.check(job)  # before anything is written
                params = build_model(run.model).param_count
                make_room(self.home, self.store, estimated_bytes(params, run.train.epochs), keep={key})
                resuming = resume and resumable_epoch(self.home, self.store, key) is not None
                if not self.store.claim(run, params, self.driver, LEASE_SECONDS, owner=owner,
                                        keep_history=resuming):
                    # another app process (or a command) trains it right now: this page watches that run
                    if owner:
                        self.store.post(key, owner)
                    return Submission(key, "joined")
                self.heartbeat.hold(key)
                if resuming:
                    self._resuming.add(key)
                if owner:
                    self._owners[key] = owner
                self._queue.add(job)
                self._jobs[key] = job
                self._start_waiting()
                state = "queued"
        if owner:
            self.store.post(key, owner)
        return Submission(key, state)

    def waiting_jobs(self, student: str) -> int:
        """How many of `student`'s jobs wait to start."""
        with self._lock:
            return self._queue.waiting_for(student)

    def job_owner(self, key: str) -> str | None:
        """The session that started the job training `key`: this process's job, or one another app process
        drives (from the store); None when nothing trains it."""
        with self._lock:
            if key in self._running or key in self._queue:
                return self._owners.get(key)
        record = self.store.get(key)
        return record.owner if record is not None and record.status in ("queued", "running") else None

    def job_class(self, key: str) -> str | None:
        """The class whose student started the job ("" for none), None when nothing trains it."""
        with self._lock:
            job = self._jobs.get(key)
        if job is not None:
            return job.class_code
        owner = self.job_owner(key)
        return None if owner is None else (self.classes.class_of(owner) or "")

    def is_ours(self, key: str) -> bool:
        with self._lock:
            return key in self._running or key in self._queue

    def can_stop(self, key: str, who: str | None, teacher_of: str | None = None) -> bool:
        """The session that started a job may stop it; a teacher may stop the jobs of the class they teach
        (`teacher_of`: its code, or "" for the students in no class), whichever app process drives them."""
        owner = self.job_owner(key)
        if owner is None or owner == who:
            return True
        return teacher_of is not None and self.job_class(key) == teacher_of

    def cancel(self, key: str, who: str | None = None, teacher_of: str | None = None, checked: bool = False) -> None:
        """Stop a queued or running job for `who` (the session that started it, or a teacher of its class: who is
        TEACHER and `teacher_of` names the class); a running worker stops within one batch (SIGTERM). NotYourJob
        for anyone else: they can stop watching, not stop it."""
        check_run_key(key)
        if not checked and not self.can_stop(key, who, teacher_of):
            raise NotYourJob(f"run {key} was started by another session")
        if not self.is_ours(key):  # another app process drives it: it sees the request at its next poll
            self.store.request_stop(key, who or "unknown")
            return
        if who:
            self.store.mark_stopped_by(key, who)
        with self._lock:
            if key in self._queue:
                self._queue.remove(key)
                self._jobs.pop(key, None)
                self._resuming.discard(key)
                self._owners.pop(key, None)
                self.store.finish(key, "cancelled", error="cancelled before it started")
                self.heartbeat.release(key)
            process = self._running.get(key)
            if process is not None:
                self._stopping.add(key)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)

    def queue_position(self, key: str) -> int | None:
        """0 while training, 1.. while waiting, None when this manager has no job for it."""
        caps = self.classes.running_caps()
        with self._lock:
            if key in self._running:
                return 0
            if key in self._queue:
                return self._queue.position(key, self._running_jobs(), caps)
        return None

    def is_active(self, key: str) -> bool:
        return self.queue_position(key) is not None

    def shutdown(self) -> None:
        """Stop every worker (used by tests and on server exit)."""
        self._closed.set()
        self.heartbeat.stop()
        with self._lock:
            self._queue.clear()
            processes = list(self._running.values())
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.backend.close()

    def _running_jobs(self) -> list[QueuedJob]:
        # Caller holds the lock.
        return [self._jobs[key] for key in self._running if key in self._jobs]

    def _start_waiting(self) -> None:
        # Caller holds the lock.
        caps = self.classes.running_caps() if len(self._queue) else {}
        while len(self._queue) and self._busy_slots() < self.max_jobs:
            job = self._queue.next_job(self._running_jobs(), caps)
            if job is None:  # every waiting class is at its cap
                return
            key = job.key
            try:
                self._running[key] = self._start(key, resume=key in self._resuming)
            except OSError as error:  # a full disk or an unwritable home: this job fails, the queue goes on
                self._owners.pop(key, None)
                self._jobs.pop(key, None)
                self.heartbeat.release(key)
                try:
                    self.store.finish(key, "failed", error=str(home_error(error, self.home)))
                except RunStoreError:
                    log.warning("job monitor: cannot record that run %s could not start", key)
            finally:
                self._resuming.discard(key)

    def _busy_slots(self) -> int:
        """Jobs that use the current backend's slots: after a fall back from a cluster, its runs use none here."""
        local = self.backend.where == "local"
        return sum(1 for handle in self._running.values() if (getattr(handle, "backend", None) is None) == local)

    def _start(self, key: str, resume: bool):
        """Launch on the backend; a cluster that stopped answering is replaced by local workers, for this job
        and every later one, and says so (`backend.fallback_reason`)."""
        try:
            return self.backend.launch(key, resume=resume)
        except BackendUnavailable as error:
            log.warning("%s; training on local workers from now on", error)
            self.backend = LocalBackend(self.home, default_max_jobs(), fallback_reason=str(error))
            self.max_jobs = self.backend.max_jobs
            return self.backend.launch(key, resume=resume)

    def waits_for_cluster(self, key: str) -> bool:
        """True while run `key` has been sent to the cluster and waits there for a free worker."""
        with self._lock:
            sent = key in self._running and self.backend.where == "cluster"
        if not sent:
            return False
        record = self.store.get(key)
        return record is not None and record.status == "queued"

    def _watch(self) -> None:
        """The monitor: free the slots of ended workers, start waiting jobs, record ends. It survives any error
        (a full disk, a store locked for long): it logs, and tries the same again at its next poll."""
        while not self._closed.wait(POLL_SECONDS):
            try:
                self._poll()
            except RunStoreError:
                self._store_back_at = time.monotonic()  # judged again only a lease after it answers
                log.warning("job monitor: the run store does not answer; retrying")
            except Exception:  # noqa: BLE001 - whatever happens, the queue must keep moving
                log.exception("job monitor: error while polling; retrying")

    def _poll(self) -> None:
        with self._lock:
            finished = [(key, process) for key, process in self._running.items() if process.poll() is not None]
            for key, process in finished:
                del self._running[key]
                self._owners.pop(key, None)
                self._jobs.pop(key, None)
                self._exited[key] = process.returncode
            if finished or len(self._queue):  # a slot freed, or a teacher raised a class's cap
                self._start_waiting()
            exited = dict(self._exited)
        for key, returncode in exited.items():
            try:
                self._record_exit(key, returncode)
            except RunStoreError:
                log.warning("job monitor: cannot record the end of run %s yet; will retry", key)
                continue
            with self._lock:
                self._exited.pop(key, None)
                self._stopping.discard(key)
            self.heartbeat.release(key)
        if time.monotonic() - self._last_orphan_check >= ORPHAN_CHECK_SECONDS:
            self._last_orphan_check = time.monotonic()
            self.mark_orphans_interrupted()
            self._stop_requested_jobs()

    def _stop_requested_jobs(self) -> None:
        """Stops pressed in another app process for jobs this one drives."""
        with self._lock:
            ours = [*self._running, *(job.key for job in self._queue.waiting)]
        for key in self.store.stops_requested(ours):
            record = self.store.get(key)
            self.cancel(key, who=record.stopped_by if record is not None else None, teacher_of=None,
                        checked=True)

    def _record_exit(self, key: str, returncode: int) -> None:
        """A worker that died without recording a final status (crash, kill) is marked failed."""
        record = self.store.get(key)
        if record is None or record.status not in ("queued", "running"):
            return
        with self._lock:
            asked_to_stop = key in self._stopping
        if asked_to_stop:  # stopped before the worker could record it (its first second, say)
            self.store.finish(key, "cancelled", error="stopped before the worker recorded it")
            return
        log_tail = _tail(run_folder(self.home, key) / "worker.log")
        self.store.finish(key, "failed", error=f"worker exited with status {returncode}: {log_tail}")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])[-1000:]


def run_worker(key: str, resume: bool = False) -> int:
    """Entry point of a worker process: train the queued run `key` from the store."""
    check_run_key(key)
    home = Path(os.environ.get("FMNIST_HOME") or "")
    if not home.is_dir():
        from .storage import app_home
        home = app_home()
    store = open_store(home)
    record = store.get(key)
    if record is None:
        print(f"no queued run {key}", file=sys.stderr)
        return 2
    # Training yields the CPU to the server: clicks of a whole class stay responsive while jobs run.
    os.nice(whole_number("FMNIST_WORKER_NICENESS", 10))
    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def should_stop() -> bool:
        # The server going away (we get re-parented) stops the job too.
        return stop.is_set() or os.getppid() != parent

    from .runs import train_run  # the trainer: in the worker process only, not in the app that imports the manager

    start = resumable_epoch(home, store, key) if resume else None
    print(f"resuming after epoch {start}" if start else "training from the first epoch", flush=True)
    try:
        result = train_run(record.run, store, home, use_cache=False, should_stop=should_stop, pid=os.getpid(),
                           resume=resume, claimed=True)  # the job manager claimed it and holds its lease
    except Exception as error:  # recorded as failed by train_run; the log keeps the traceback
        print(f"training failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if result.record.status == "cancelled" and os.getppid() != parent:
        store.finish(key, "interrupted", error="the server stopped while this run was training")
    return 0
