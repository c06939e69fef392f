"""Which process answers for a run, without process ids: a process that drives runs (an app process's job manager,
a command-line `train` or `precompute`) has a driver name and renews a lease in the run store every few seconds
for each run it drives. A run whose lease has not been renewed for LEASE_SECONDS lost its driver (a replica or a
command that died): any app process marks it interrupted, resumable anywhere. No pid means anything on another
machine; a lease does."""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

from .runstore import RunStore, RunStoreError

LEASE_SECONDS = 15.0  # silence for this long means the driver died
HEARTBEAT_SECONDS = 3.0  # renewals within one lease: a process starved of CPU for a while is not taken for dead
log = logging.getLogger(__name__)


def driver_name() -> str:
    """A name for this process that no other process on any machine shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Heartbeat:
    """Renews the lease of every run this driver holds, from a thread of its own, while in its `with` block (or
    between start() and stop()). A store error skips a beat, never the thread."""

    def __init__(self, store: RunStore, driver: str | None = None, seconds: float = HEARTBEAT_SECONDS):
        self.store = store
        self.driver = driver or driver_name()
        self.seconds = seconds
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def release(self, key: str) -> None:
        with self._lock:
            self._keys.discard(key)

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._keys)

    def beat(self) -> None:
        try:
            self.store.renew(self.driver, self.held())
        except RunStoreError:
            log.warning("lease of %s not renewed this time (the store is busy)", self.driver)

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name="fmnist-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self.seconds):
            self.beat()

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *_exception) -> None:
        self.stop()
