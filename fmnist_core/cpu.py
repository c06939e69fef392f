"""The training process's CPU settings: how many threads (the cores it may use and the ones others leave free),
set inside a block that restores them. Malloc's settings, process-wide for good, are made only where a training
process starts (`process.py`)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from .load import competing_tasks
from .settings import whole_number


def cpu_quota(cgroup_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPUs a container's quota grants (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`), None when unlimited:
    a container limited to 2 CPUs on a 64-core host must not start 64 threads."""
    try:
        quota, _, period = (cgroup_root / "cpu.max").read_text().partition(" ")
    except OSError:
        try:
            quota = (cgroup_root / "cpu" / "cpu.cfs_quota_us").read_text()
            period = (cgroup_root / "cpu" / "cpu.cfs_period_us").read_text()
        except OSError:
            return None
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no limit
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def usable_cpus() -> int:
    """The cores this process may run on: its affinity, capped by the container's quota and by FMNIST_THREAD_CAP
    (the job manager's share per worker when several train at once)."""
    cores = len(os.sched_getaffinity(0))
    quota = cpu_quota()
    if quota is not None:
        cores = min(cores, int(quota))
    cap = whole_number("FMNIST_THREAD_CAP", 0)
    return max(1, min(cores, cap) if cap > 0 else cores)


def threads_for_load(usable: int, others: int | None) -> int:
    """Intra-op threads for an epoch: every usable core on a quiet machine; only the cores others leave free
    (at least one) when they compete. OpenMP threads spin at each barrier waiting for the slowest: a thread that
    shares its core with a busy process holds up all the others (an epoch took 4–5× its quiet time with one busy
    process per core, where a fair share of the CPU gives 2×; BENCHMARKS.md)."""
    if others is None:
        return usable
    return max(1, min(usable, usable - others))


def configure_cpu_threads() -> int:
    """One intra-op thread per core we may use (affinity and quota), no inter-op oversubscription."""
    threads = whole_number("FMNIST_THREADS", 0) or usable_cpus()
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


def flush_denormals(on: bool, threads: int) -> bool:
    """Flush denormal floats to zero (`on`) or not, in this thread and every thread of PyTorch's pool of
    `threads` (floating_point.c says why); returns whether this thread flushed before. Where that small library
    cannot be built, PyTorch's own switch sets this thread, and the pool threads started after it."""
    from .kernels.bindings import library

    settings = library("floating_point")
    before = settings.denormals_flushed(int(on), threads) if settings is not None else -1
    if before < 0:
        torch.set_flush_denormal(on)
        return False
    return bool(before)


@contextmanager
def training_threads() -> Iterator[int]:
    """Within the block, one intra-op thread per core we may use (epochs adapt below it with `adapt_threads`) and
    denormal floats flushed to zero; after it, the thread count and flushing the process had: training inside
    another program (a test, a notebook) leaves its settings as they were. Yields the number of threads it may
    use."""
    before = torch.get_num_threads()
    try:
        threads = configure_cpu_threads()
        flushed_before = flush_denormals(True, threads)
        try:
            yield threads
        finally:
            flush_denormals(flushed_before, max(threads, torch.get_num_threads()))
    finally:
        torch.set_num_threads(before)


def adapt_threads(usable: int) -> None:
    """Before an epoch: as many threads as the cores other tasks leave free (FMNIST_THREADS, when set, wins)."""
    if os.environ.get("FMNIST_THREADS"):
        return
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        # waiting threads sleep: every usable core, each taking its fair share of a busy machine
        torch.set_num_threads(usable)
        return
    torch.set_num_threads(threads_for_load(usable, competing_tasks(usable)))
