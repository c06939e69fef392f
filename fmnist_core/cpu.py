"""The training process's CPU settings: how many threads (the cores it may use and the ones others leave free)
and how glibc's malloc keeps freed buffers. Process-wide, so set here once, not inside the training loop."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

import torch

from .load import competing_tasks


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
    cap = int(os.environ.get("FMNIST_THREAD_CAP") or 0)
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
    threads = int(os.environ.get("FMNIST_THREADS") or 0) or usable_cpus()
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


# glibc's malloc hands large freed blocks (every activation and gradient buffer of a step) back to the
# kernel and faults them in again page by page on the next step: millions of page faults per run. Keeping blocks
# up to 32 MiB in the heap removes most of that system time (BENCHMARKS.md, "What each lever gave").
_MALLOPT = {"M_TRIM_THRESHOLD": (-1, 1 << 30), "M_MMAP_THRESHOLD": (-3, 32 << 20)}


def keep_freed_memory_for_reuse() -> bool:
    """Tell glibc's malloc to keep freed tensor buffers for the next step; False where there is no glibc
    (macOS, musl): nothing changes there."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(option, value) == 1 for option, value in _MALLOPT.values())


def prepare_for_training() -> int:
    """Set this process up for training on the CPU; the number of threads it may use."""
    keep_freed_memory_for_reuse()
    return configure_cpu_threads()


def adapt_threads(usable: int) -> None:
    """Before an epoch: as many threads as the cores other tasks leave free (FMNIST_THREADS, when set, wins)."""
    if os.environ.get("FMNIST_THREADS"):
        return
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        # waiting threads sleep: every usable core, each taking its fair share of a busy machine
        torch.set_num_threads(usable)
        return
    torch.set_num_threads(threads_for_load(usable, competing_tasks(usable)))
