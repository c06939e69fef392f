"""The numbers an administrator may set in the environment (FMNIST_THREADS, FMNIST_MAX_JOBS, …), read and checked
in one place: a value that is not what its variable takes is a SettingError that names the variable, said in one
line by the command line (exit 2) and on the page, never a traceback deep inside training. No torch here."""
from __future__ import annotations

import os

from .limits import disk_quota_bytes


class SettingError(ValueError):
    """An environment setting (or a device asked for) that cannot be used; the message names it and the fix."""


# variable → (smallest value, what the value means), for whole-number settings; unset or empty means the default
WHOLE_NUMBER_SETTINGS = {
    "FMNIST_THREADS": (1, "intra-op threads for training"),
    "FMNIST_THREAD_CAP": (0, "the most threads one worker may use (0: no cap)"),
    "FMNIST_MAX_JOBS": (0, "jobs training at once on this server (0: one per two cores)"),
    "FMNIST_WORKER_NICENESS": (0, "the niceness of training workers"),
    "FMNIST_RAY_CPUS_PER_TASK": (1, "CPUs each cluster task asks for"),
}


def whole_number(name: str, default: int, environ=os.environ) -> int:
    """The whole-number setting `name` (WHOLE_NUMBER_SETTINGS), or `default` when it is unset or empty."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    minimum, meaning = WHOLE_NUMBER_SETTINGS[name]
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{name}={text!r} is not a whole number ({meaning})") from None
    if value < minimum:
        raise SettingError(f"{name}={text!r} must be at least {minimum} ({meaning})")
    return value


def check_environment(environ=os.environ) -> None:
    """Every setting read now, so that a wrong one is said before any work starts. SettingError."""
    for name in WHOLE_NUMBER_SETTINGS:
        whole_number(name, 0, environ)
    if "FMNIST_HOME" in environ and not environ["FMNIST_HOME"].strip():
        raise SettingError("FMNIST_HOME is set but empty: unset it to use ~/.local/share/fmnist-explorer, or set it "
                           "to a folder")
    try:
        disk_quota_bytes(environ)
    except ValueError as error:  # the message names FMNIST_DISK_QUOTA_GB
        raise SettingError(str(error)) from None
