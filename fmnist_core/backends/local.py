"""Local workers: one `python -m fmnist_core worker` process per run, on this machine (the default backend)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .. import load
from ..storage import run_folder

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class LocalBackend:
    """One `python -m fmnist_core worker` process per run, on this machine."""

    name = "local"
    where = "local"  # what the pages say a waiting run waits for: this server's queue

    def __init__(self, home: Path, max_jobs: int, fallback_reason: str | None = None):
        self.home = Path(home)
        self.max_jobs = max_jobs
        self.fallback_reason = fallback_reason  # set when a cluster was asked for and could not be used

    def launch(self, key: str, resume: bool = False) -> subprocess.Popen:
        folder = run_folder(self.home, key)
        folder.mkdir(parents=True, exist_ok=True)
        environment = dict(os.environ, FMNIST_HOME=str(self.home))
        if load.chosen_here:  # the server's own start-up choice: each worker chooses for the load it starts in
            environment.pop("OMP_WAIT_POLICY", None)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        if self.max_jobs > 1 and "FMNIST_THREADS" not in environment:  # a cap: each epoch still adapts below it
            environment["FMNIST_THREAD_CAP"] = str(max(1, (os.cpu_count() or 2) // self.max_jobs))
        command = [sys.executable, "-m", "fmnist_core", "worker", "--run-id", key] + (["--resume"] if resume else [])
        with open(folder / "worker.log", "wb") as log_file:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                    env=environment, cwd=str(PROJECT_ROOT))

    def close(self) -> None:
        """Nothing to release: the manager stops its own worker processes."""
