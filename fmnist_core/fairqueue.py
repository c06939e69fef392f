"""The order in which waiting jobs start on a shared server: round-robin across classes, then across the students
of a class, so that one student with ten runs waiting delays nobody's first run and one busy class does not hold
up another. Pure bookkeeping: the job manager says what runs and asks what starts next."""
from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass

from .limits import MAX_QUEUED_ON_SERVER, MAX_QUEUED_PER_CLASS, MAX_QUEUED_PER_STUDENT


@dataclass(frozen=True)
class QueuedJob:
    key: str
    student: str  # who asked (a browser, or a session): the unit of fairness and of the queue limit
    class_code: str = ""  # the student's class ("" for none: the students in no class count as one class)
    queued_at: float = 0.0


class QueueFull(Exception):
    """A job that may not wait now. `reason`: "student" (that student has MAX_QUEUED_PER_STUDENT waiting), "class"
    (their class has MAX_QUEUED_PER_CLASS) or "server" (MAX_QUEUED_ON_SERVER are waiting)."""

    def __init__(self, reason: str, limit: int):
        super().__init__(f"{limit} jobs are waiting already ({reason})")
        self.reason = reason
        self.limit = limit


class FairQueue:
    """Waiting jobs, and the turn each student and each class last had."""

    def __init__(self, per_student: int = MAX_QUEUED_PER_STUDENT, on_server: int = MAX_QUEUED_ON_SERVER,
                 per_class: int = MAX_QUEUED_PER_CLASS):
        self.per_student = per_student
        self.on_server = on_server
        self.per_class = per_class
        self.waiting: list[QueuedJob] = []
        self._turn = 0
        self._student_turn: dict[str, int] = {}  # the turn at which each student's last job started
        self._class_turn: dict[str, int] = {}
        self._positions: tuple = (None, {})  # (the state they were worked out for, key → place)

    def __contains__(self, key: str) -> bool:
        return any(job.key == key for job in self.waiting)

    def __len__(self) -> int:
        return len(self.waiting)

    def waiting_for(self, student: str) -> int:
        return sum(1 for job in self.waiting if job.student == student)

    def check(self, job: QueuedJob) -> None:
        """QueueFull when `job` may not wait now: its student, or the server, has as many waiting as allowed."""
        if self.waiting_for(job.student) >= self.per_student:
            raise QueueFull("student", self.per_student)
        if sum(1 for other in self.waiting if other.class_code == job.class_code) >= self.per_class:
            raise QueueFull("class", self.per_class)
        if len(self.waiting) >= self.on_server:
            raise QueueFull("server", self.on_server)

    def add(self, job: QueuedJob) -> None:
        """Queue `job`; QueueFull (and nothing queued) when it may not wait now."""
        self.check(job)
        self.waiting.append(job)

    def remove(self, key: str) -> QueuedJob | None:
        for job in self.waiting:
            if job.key == key:
                self.waiting.remove(job)
                return job
        return None

    def clear(self) -> None:
        self.waiting.clear()

    def order(self, running: list[QueuedJob], caps: dict[str, int] | None = None) -> list[QueuedJob]:
        """Every waiting job in the order it would start if slots freed one by one now (a class at its cap waits
        for its own jobs to end, so its jobs come after the others)."""
        trial, running, ordered = copy.deepcopy(self), list(running), []
        while trial.waiting:
            job = trial.next_job(running, caps) or trial.next_job(running, {})
            running.append(job)
            ordered.append(job)
        return ordered

    def position(self, key: str, running: list[QueuedJob], caps: dict[str, int] | None = None) -> int | None:
        """1 for the job that starts next, 2 after it, …; None when `key` is not waiting. Every waiting page asks
        once a second: the order is worked out again only when the queue, the running jobs or the caps changed."""
        state = (self._turn, tuple(job.key for job in self.waiting), tuple(job.key for job in running),
                 tuple(sorted((caps or {}).items())))
        if self._positions[0] != state:
            self._positions = (state, {job.key: place for place, job in enumerate(self.order(running, caps), 1)})
        return self._positions[1].get(key)

    def next_job(self, running: list[QueuedJob], caps: dict[str, int] | None = None) -> QueuedJob | None:
        """Take the job that starts now from the queue (None when none may: empty, or every waiting class at
        its cap of running jobs)."""
        job = self._pick(running, caps or {})
        if job is not None:
            self._started(job)
        return job

    def _started(self, job: QueuedJob) -> None:
        self.waiting.remove(job)
        self._turn += 1
        self._student_turn[job.student] = self._turn
        self._class_turn[job.class_code] = self._turn

    def _pick(self, running: list[QueuedJob], caps: dict[str, int]) -> QueuedJob | None:
        """The class with the fewest jobs running whose turn was longest ago (never: first), under its cap; in
        it, likewise the student; that student's oldest waiting job."""
        running_per_class = Counter(job.class_code for job in running)
        running_per_student = Counter(job.student for job in running)
        open_classes = {job.class_code for job in self.waiting
                        if running_per_class[job.class_code] < caps.get(job.class_code, math.inf)}
        if not open_classes:
            return None
        chosen_class = min(open_classes, key=lambda code: (running_per_class[code], self._class_turn.get(code, 0),
                                                             self._oldest(class_code=code), code))
        students = {job.student for job in self.waiting if job.class_code == chosen_class}
        chosen_student = min(students, key=lambda student: (running_per_student[student],
                                                             self._student_turn.get(student, 0),
                                                             self._oldest(student=student), student))
        return min((job for job in self.waiting if job.student == chosen_student and job.class_code == chosen_class),
                   key=lambda job: job.queued_at)

    def _oldest(self, class_code: str | None = None, student: str | None = None) -> float:
        return min(job.queued_at for job in self.waiting if (class_code is None or job.class_code == class_code)
                   and (student is None or job.student == student))
