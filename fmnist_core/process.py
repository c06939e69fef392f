"""What a training process sets for itself where it starts (the CLI, a job's worker, a cluster task), and
nowhere else: these settings hold for the whole process, so a library that imports the core keeps its own. No
torch here: the OpenMP wait policy must be chosen before torch loads OpenMP."""
from __future__ import annotations

import ctypes

from .data import prefetch_files
from .load import choose_openmp_wait_policy

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


def start_training_process() -> None:
    """The process-wide settings of a process that trains: OpenMP's wait policy for the load it starts in, and
    malloc that keeps freed buffers; and the data set's files read ahead while torch imports."""
    choose_openmp_wait_policy()
    keep_freed_memory_for_reuse()
    prefetch_files()
