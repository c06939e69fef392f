"""Lesson codes: a teacher's lesson (locked and hidden controls, the model to start from) stored on the server
under a few characters that a class types from the projector or scans as a QR code. Students who follow a code
see the teacher's later changes: every change bumps the lesson's version."""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .runstore import store_error
from .specs import MAX_SPEC_TEXT
from .storage import home_error

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read off a projector at the back of a classroom is typed right.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 4
MAX_NAMES = 32  # locked or hidden control names in one lesson
MAX_NAME_LENGTH = 32
DATABASE_NAME = "lessons.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS lessons (
    code TEXT PRIMARY KEY,
    settings_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


class LessonError(ValueError):
    """Lesson settings that cannot be stored (too many names, a spec text too long)."""


@dataclass(frozen=True)
class LessonSettings:
    """What a lesson sets for its students: control names to lock and to hide, and a link's spec text."""

    lock: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    spec: str | None = None

    def to_json(self) -> str:
        return json.dumps({"lock": list(self.lock), "hide": list(self.hide), "spec": self.spec}, sort_keys=True)


@dataclass(frozen=True)
class Lesson:
    code: str
    settings: LessonSettings
    version: int


def parse_code(text: str | None) -> str | None:
    """A lesson code as a student may type it (any case, spaces or a dash inside), or None when it cannot be one."""
    if not isinstance(text, str) or len(text) > 16:  # measured before anything else is done with it
        return None
    code = text.upper().replace(" ", "").replace("-", "")
    return code if len(code) == CODE_LENGTH and all(char in CODE_ALPHABET for char in code) else None


def checked_settings(lock, hide, spec) -> LessonSettings:
    """Settings within the lesson store's bounds; LessonError otherwise."""
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


def _settings_from_json(text: str) -> LessonSettings | None:
    try:
        raw = json.loads(text)
        return checked_settings(raw["lock"], raw["hide"], raw["spec"])
    except (ValueError, KeyError, TypeError):
        return None


class LessonStore:
    """Lessons in one SQLite file beside the run store; each call opens its own connection."""

    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise home_error(error, self.path.parent) from None
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout)) as connection:
                connection.row_factory = sqlite3.Row
                with connection:
                    yield connection
        except sqlite3.DatabaseError as error:
            raise store_error(self.path, error) from error

    def create(self, settings: LessonSettings) -> str:
        """Store a new lesson under a fresh code and return the code."""
        now = time.time()
        with self._connect() as connection:
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                try:
                    connection.execute(
                        "INSERT INTO lessons (code, settings_json, version, created_at, updated_at) "
                        "VALUES (:code, :settings, 1, :now, :now)",
                        {"code": code, "settings": settings.to_json(), "now": now})
                    return code
                except sqlite3.IntegrityError:  # that code is taken: draw another
                    continue

    def update(self, code: str, settings: LessonSettings) -> int:
        """Change a lesson; its version goes up only when something changed. The version now (0: no such lesson)."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE lessons SET settings_json=:settings, version=version+1, updated_at=:now "
                "WHERE code=:code AND settings_json != :settings",
                {"code": code, "settings": settings.to_json(), "now": time.time()})
            row = connection.execute("SELECT version FROM lessons WHERE code=?", (code,)).fetchone()
        return row["version"] if row else 0

    def get(self, code: str | None) -> Lesson | None:
        """The lesson stored under `code` (as typed), or None."""
        code = parse_code(code)
        if code is None:
            return None
        with self._connect() as connection:
            row = connection.execute("SELECT code, settings_json, version FROM lessons WHERE code=?",
                                     (code,)).fetchone()
        settings = _settings_from_json(row["settings_json"]) if row else None
        return Lesson(row["code"], settings, row["version"]) if settings is not None else None


def open_lessons(home: Path) -> LessonStore:
    return LessonStore(home / DATABASE_NAME)
