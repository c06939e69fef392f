"""What every job backend is and shares: the interface the job manager drives (JobBackend, and the JobHandle each
launch returns), the exception that sends the manager back to local workers, and the variable that asks for a
cluster. A new backend is a class with this interface in a module of this folder, and one branch in
`select_backend` (backends/__init__.py); tests/test_jobs.py drives a throw-away one."""
from __future__ import annotations

import signal
from typing import Protocol, runtime_checkable

RAY_ADDRESS_VARIABLE = "FMNIST_RAY_ADDRESS"


class BackendUnavailable(RuntimeError):
    """A backend that cannot take jobs now (a cluster that does not answer); the manager falls back to local."""


@runtime_checkable
class JobHandle(Protocol):
    """One launched run, as the manager sees it: the part of `subprocess.Popen` it uses."""

    returncode: int | None

    def poll(self) -> int | None:
        """None while the run trains, else its exit status (0: it recorded its own end in the store)."""

    def send_signal(self, signum: int = signal.SIGTERM) -> None:
        """Ask the run to stop within a batch (it records itself cancelled)."""

    def wait(self, timeout: float | None = None) -> int | None: ...

    def kill(self) -> None: ...


@runtime_checkable
class JobBackend(Protocol):
    """Where a job trains. The job manager keeps the queue, the run store and the checkpoints; a backend starts a
    queued run (the store holds its spec) and trains it, writing its epochs to the store."""

    name: str  # "local", "ray", …: what the store records as the run's backend
    where: str  # "local" or "cluster": what a waiting run waits for, as the pages say
    max_jobs: int  # how many runs it trains at once
    fallback_reason: str | None  # set when another backend was asked for and this one stands in

    def launch(self, key: str, resume: bool = False) -> JobHandle:
        """Start training queued run `key` (going on from its last saved epoch with `resume`); BackendUnavailable
        when it cannot take jobs now."""

    def close(self) -> None:
        """Release what the backend holds (connections); the manager has stopped its jobs."""
