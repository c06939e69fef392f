"""The shared server's limits, in one place (a model's limits are in specs.py): who may queue how much, how much
disk runs may take, how codes are made and how fast they may be guessed. Pages, the job manager, the quota and
the README's arithmetic all read them from here."""
from __future__ import annotations

import os

# The fair queue (fairqueue.py, jobs.py).
MAX_QUEUED_PER_STUDENT = 3  # a student's jobs waiting at once; a fourth waits until one of them starts
MAX_QUEUED_PER_CLASS = 60  # one class's jobs waiting at once: a student with many browsers cannot fill the server
MAX_QUEUED_ON_SERVER = 120  # every job waiting at once, whoever queued it: a class of 30 with 3 each is 90
CLASS_RUNNING_CAP_RANGE = (1, 16)  # the teacher's cap on a class's jobs training at once

# Lesson (class) codes: what a class types from the projector, without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6  # 25**6 ≈ 244 million codes (README: "Guessing a class's code")
MAX_CODE_TEXT = 16  # characters a typed code may have before it is looked at
CLASS_NAME_LENGTH = 40

# The teacher's door (teacher.py).
TEACHER_CODE_BYTES = 16  # a generated code is 22 URL-safe characters (128 bits)
MIN_TEACHER_CODE_LENGTH = 16  # an administrator's FMNIST_TEACHER_CODE shorter than this is refused at start
MAX_TEACHER_CODE_TEXT = 128

# Wrong guesses, of a teacher code or a lesson code, per browser session and per client address: a few are
# free (typing mistakes), then each one waits twice as long as the last before the next is even looked at.
FREE_WRONG_ATTEMPTS = 3
FIRST_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 3600.0
ATTEMPT_MEMORY_SECONDS = 24 * 3600.0  # wrong attempts are forgotten a day after the last one

# Disk (quota.py): checkpoints and imported models under FMNIST_HOME/runs.
DEFAULT_QUOTA_GB = 8.0  # on a 20 GB disk, after the OS, the Python environment (~6 GB with torch) and the data
QUOTA_VARIABLE = "FMNIST_DISK_QUOTA_GB"


def disk_quota_bytes(environ=os.environ) -> int:
    """The disk runs may take: FMNIST_DISK_QUOTA_GB (a positive number) or the default. ValueError, naming the
    variable, for anything else."""
    text = environ.get(QUOTA_VARIABLE, "").strip()
    if not text:
        return int(DEFAULT_QUOTA_GB * 2**30)
    try:
        gigabytes = float(text)
    except ValueError:
        raise ValueError(f"{QUOTA_VARIABLE}={text!r} is not a number of gigabytes") from None
    if not 0 < gigabytes < 1e6:
        raise ValueError(f"{QUOTA_VARIABLE}={text!r} must be a positive number of gigabytes")
    return int(gigabytes * 2**30)
