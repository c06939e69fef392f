"""How busy this machine's cores are, read without torch: the OpenMP wait policy must be chosen before torch
loads OpenMP, and the training threads follow the cores other tasks leave free (cpu.py)."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

SAMPLE_GAP_SECONDS = 0.0025


def other_runnable_tasks(samples: int = 5) -> int | None:
    """How many other tasks want a CPU right now (the kernel's runnable count in /proc/loadavg, less this
    thread; the median of a few samples a few milliseconds apart: a busy process is runnable in every one, a
    passing task in few), None where there is no /proc. Every training process asks before each epoch, so the
    wait is kept short."""
    counts = []
    for sample in range(samples):
        if sample:
            time.sleep(SAMPLE_GAP_SECONDS)
        try:
            running = Path("/proc/loadavg").read_text().split()[3].partition("/")[0]
        except (OSError, IndexError):
            return None
        counts.append(int(running) - 1)
    return max(0, sorted(counts)[len(counts) // 2])


def competing_tasks(ours: int, samples: int = 5) -> int | None:
    """Other runnable tasks that compete for our `ours` cores: /proc/loadavg counts the whole host, and tasks
    beyond the CPUs we do not use run elsewhere (a container on a big host). None where there is no /proc."""
    others = other_runnable_tasks(samples)
    if others is None:
        return None
    return max(0, others - max(0, (os.cpu_count() or ours) - ours))


chosen_here: list[str] = []  # the policy this process chose for itself (its children choose their own)


def choose_openmp_wait_policy(environ=os.environ) -> str | None:
    """When every core is already taken as this process starts, OpenMP threads that wait at a barrier sleep
    (PASSIVE) instead of spinning on cores other processes need; on a quiet machine they keep spinning, which is
    faster there (BENCHMARKS.md, "under load"). OpenMP fixes its policy when torch loads it, so this runs first
    and only once; an OMP_WAIT_POLICY already set wins. Returns the policy it set, or None."""
    if "OMP_WAIT_POLICY" in environ or "torch" in sys.modules:
        return None
    ours = len(os.sched_getaffinity(0))
    competing = competing_tasks(ours)
    if competing is not None and competing >= ours:
        environ["OMP_WAIT_POLICY"] = "PASSIVE"
        chosen_here.append("PASSIVE")
        return "PASSIVE"
    return None
