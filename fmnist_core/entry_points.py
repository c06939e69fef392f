"""Private framework entry points, each tried once against its public counterpart before it is first used:
PyTorch's fused Adam (`torch._fused_adam_`) against the Adam arithmetic of torch.optim, and the BLAS `sgemm_`
found inside `libtorch_cpu` against `torch.mm`. A check that fails, raises or finds the entry point missing (a
torch upgrade that drops it) means the public path: training gets slower, never wrong. `FMNIST_DISTRUST` (names,
comma-separated) fails checks on purpose, to exercise those paths."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
DISTRUST_VARIABLE = "FMNIST_DISTRUST"
_CHECKS: dict[str, Callable[[], bool]] = {}
_RESULTS: dict[str, bool] = {}
_LOCK = threading.Lock()


def entry_point_check(name: str):
    """Register the check of one private entry point (a function that returns True when it agrees)."""
    def register(check: Callable[[], bool]) -> Callable[[], bool]:
        _CHECKS[name] = check
        return check
    return register


def trusted(name: str) -> bool:
    """Whether private entry point `name` may be used: its check passed (run once per process)."""
    with _LOCK:
        if name not in _RESULTS:
            distrusted = {part.strip() for part in os.environ.get(DISTRUST_VARIABLE, "").split(",")}
            try:
                _RESULTS[name] = name not in distrusted and bool(_CHECKS[name]())
            except Exception as error:  # noqa: BLE001 - any failure of the check means the public path
                log.warning("private entry point %s failed its check (%s); using the public path", name, error)
                _RESULTS[name] = False
            if not _RESULTS[name]:
                log.warning("private entry point %s is not used here; the public path is", name)
        return _RESULTS[name]


def forget_checks() -> None:
    """Run every check again at its next use (tests that change FMNIST_DISTRUST)."""
    with _LOCK:
        _RESULTS.clear()
