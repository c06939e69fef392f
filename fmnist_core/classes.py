"""Classes on a shared server: a teacher creates a class (a name); its code is the class's door, typed from the
projector or scanned as a QR code. The class's lesson (locked and hidden controls, the model to start from), its
members (anonymous browser-session names), its board and its cap on jobs training at once live in the run store,
so that every store implementation carries them. Every change to a lesson bumps its version: students who follow
the code take the teacher's later changes."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from .limits import CLASS_NAME_LENGTH, CLASS_RUNNING_CAP_RANGE, CODE_ALPHABET, CODE_LENGTH, MAX_CODE_TEXT
from .specs import MAX_SPEC_TEXT

MAX_NAMES = 32  # locked or hidden control names in one lesson
MAX_NAME_LENGTH = 32


class LessonError(ValueError):
    """Lesson settings or a class that cannot be stored (too many names, a spec text too long, no name)."""


@dataclass(frozen=True)
class LessonSettings:
    """What a lesson sets for its students: control names to lock and to hide, and a link's spec text."""

    lock: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    spec: str | None = None

    def to_json(self) -> str:
        return json.dumps({"lock": list(self.lock), "hide": list(self.hide), "spec": self.spec}, sort_keys=True)


@dataclass(frozen=True)
class SchoolClass:
    """A class and its lesson. `running_cap`: how many of its jobs may train at once (None: no cap of its own)."""

    code: str
    name: str
    settings: LessonSettings
    version: int
    running_cap: int | None = None
    board_cleared_at: float = 0.0


def display_code(code: str) -> str:
    """A code as the projector shows it: in two groups of three, easier to read out and type."""
    return f"{code[:3]} {code[3:]}" if len(code) == 6 else code


def parse_code(text: str | None) -> str | None:
    """A class code as a student may type it (any case, spaces or a dash inside), or None when it cannot be one."""
    if not isinstance(text, str) or len(text) > MAX_CODE_TEXT:  # measured before anything else is done with it
        return None
    code = text.upper().replace(" ", "").replace("-", "")
    return code if len(code) == CODE_LENGTH and all(char in CODE_ALPHABET for char in code) else None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def checked_settings(lock, hide, spec) -> LessonSettings:
    """Settings within the store's bounds; LessonError otherwise."""
    names = []
    for group in (lock, hide):
        group = tuple(group)
        if len(group) > MAX_NAMES or not all(isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH
                                             for name in group):
            raise LessonError("too many or too long control names")
        names.append(group)
    if spec is not None and (not isinstance(spec, str) or len(spec) > MAX_SPEC_TEXT):
        raise LessonError("the lesson's model description is too long")
    return LessonSettings(lock=names[0], hide=names[1], spec=spec)


def checked_name(name: str) -> str:
    """A class's name as typed, trimmed; LessonError when empty or too long."""
    name = " ".join(str(name or "").split())
    if not name or len(name) > CLASS_NAME_LENGTH:
        raise LessonError(f"a class name has 1 to {CLASS_NAME_LENGTH} characters")
    return name


def checked_cap(cap: int | None) -> int | None:
    if cap is None:
        return None
    low, high = CLASS_RUNNING_CAP_RANGE
    if not isinstance(cap, int) or not low <= cap <= high:
        raise LessonError(f"a class's cap on running jobs is {low} to {high}")
    return cap


def settings_from_json(text: str) -> LessonSettings | None:
    try:
        raw = json.loads(text)
        return checked_settings(raw["lock"], raw["hide"], raw["spec"])
    except (ValueError, KeyError, TypeError):
        return None


class ClassStore:
    """Classes, members and lessons in the run store's database (the run store's own transactions)."""

    def __init__(self, store):
        self.store = store

    def create(self, name: str, settings: LessonSettings = LessonSettings(), running_cap: int | None = None) -> str:
        """A new class under a fresh code; the code."""
        name, running_cap = checked_name(name), checked_cap(running_cap)
        now = time.time()
        while True:
            code = new_code()
            with self.store.transaction() as connection:
                taken = connection.execute("SELECT 1 FROM classes WHERE code=?", (code,)).fetchone()
                if taken:
                    continue
                connection.execute(
                    "INSERT INTO classes (code, name, settings_json, version, running_cap, board_cleared_at, "
                    "created_at, updated_at) VALUES (:code, :name, :settings, 1, :cap, 0, :now, :now)",
                    {"code": code, "name": name, "settings": settings.to_json(), "cap": running_cap, "now": now})
                return code

    def update(self, code: str, settings: LessonSettings) -> int:
        """Change a class's lesson; its version goes up only when something changed. The version now (0: no such
        class)."""
        with self.store.transaction() as connection:
            connection.execute(
                "UPDATE classes SET settings_json=:settings, version=version+1, updated_at=:now "
                "WHERE code=:code AND settings_json != :settings",
                {"code": code, "settings": settings.to_json(), "now": time.time()})
            row = connection.execute("SELECT version FROM classes WHERE code=?", (code,)).fetchone()
        return row["version"] if row else 0

    def set_running_cap(self, code: str, running_cap: int | None) -> None:
        with self.store.transaction() as connection:
            connection.execute("UPDATE classes SET running_cap=? WHERE code=?", (checked_cap(running_cap), code))

    def get(self, code: str | None) -> SchoolClass | None:
        """The class under `code` (as typed), or None."""
        code = parse_code(code)
        if code is None:
            return None
        with self.store.transaction() as connection:
            row = connection.execute("SELECT * FROM classes WHERE code=?", (code,)).fetchone()
        return _school_class(row) if row else None

    def all(self) -> list[SchoolClass]:
        """Every class on the server, newest first (what a teacher may open)."""
        with self.store.transaction() as connection:
            rows = connection.execute("SELECT * FROM classes ORDER BY created_at DESC").fetchall()
        return [school_class for row in rows if (school_class := _school_class(row)) is not None]

    def running_caps(self) -> dict[str, int]:
        """Each class's cap on jobs training at once, where it has one."""
        with self.store.transaction() as connection:
            rows = connection.execute("SELECT code, running_cap FROM classes WHERE running_cap IS NOT NULL")
            return {row["code"]: row["running_cap"] for row in rows}

    def join(self, member: str, code: str) -> None:
        """`member` (a browser session) is in class `code` from now on (and in no other)."""
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO class_members (member, code, joined_at) VALUES (?, ?, ?) "
                "ON CONFLICT(member) DO UPDATE SET code=excluded.code, joined_at=excluded.joined_at",
                (str(member), code, time.time()))

    def leave(self, member: str) -> None:
        with self.store.transaction() as connection:
            connection.execute("DELETE FROM class_members WHERE member=?", (str(member),))

    def class_of(self, member: str | None) -> str | None:
        """The code of the class `member` is in, or None."""
        if not member:
            return None
        with self.store.transaction() as connection:
            row = connection.execute("SELECT code FROM class_members WHERE member=?", (str(member),)).fetchone()
        return row["code"] if row else None


def _school_class(row) -> SchoolClass | None:
    settings = settings_from_json(row["settings_json"])
    if settings is None:
        return None
    return SchoolClass(code=row["code"], name=row["name"], settings=settings, version=row["version"],
                       running_cap=row["running_cap"], board_cleared_at=row["board_cleared_at"])
