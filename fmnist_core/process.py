"""What a training process sets for itself where it starts (the CLI, a job's worker, a cluster task), and
nowhere else: these settings hold for the whole process, so a library that imports the core keeps its own. No
torch here: the OpenMP wait policy must be chosen before torch loads OpenMP."""
from __future__ import annotations

import ctypes
import gc

from .data import prefetch_files
from .load import choose_openmp_wait_policy

# glibc's malloc hands large freed blocks (every activation and gradient buffer of a step) back to the
# kernel and faults them in again page by page on the next step: millions of page faults per run. Keeping blocks
# up to 32 MiB in the heap removes most of that system time (BENCHMARKS.md, "What each lever gave").
_MALLOPT = {"M_TRIM_THRESHOLD": (-1, 1 << 30), "M_MMAP_THRESHOLD": (-3, 32 << 20)}

# Importing torch creates some hundred thousand objects; at the interpreter's default threshold (700) that sets off
# hundreds of collections, some of them over every object (what that costs: BENCHMARKS.md, #26). A training step
# leaves next to no cyclic garbage, so collecting a hundred times less often holds back almost nothing.
YOUNGEST_GENERATION_THRESHOLD = 100_000


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
    malloc that keeps freed buffers; the data set's files read ahead while torch imports; and garbage collection
    seldom enough that importing torch does not set it off over and over."""
    choose_openmp_wait_policy()
    keep_freed_memory_for_reuse()
    prefetch_files()
    gc.set_threshold(YOUNGEST_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
