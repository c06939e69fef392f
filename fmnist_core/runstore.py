"""SQLite record of every run and its per-epoch metrics; the one source of truth for every page."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .metrics import EpochMetrics
from .specs import RunSpec, run_from_json
from .storage import check_run_key

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    summary TEXT NOT NULL,
    model_kind TEXT NOT NULL,
    params INTEGER NOT NULL,
    status TEXT NOT NULL,
    device TEXT,
    owner TEXT,
    pid INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS epochs (
    key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,
    epoch_seconds REAL, images_per_second REAL,
    checkpoint_sha256 TEXT,
    PRIMARY KEY (key, epoch)
);
CREATE TABLE IF NOT EXISTS board_posts (
    key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    posted_at REAL NOT NULL,
    PRIMARY KEY (key, owner)
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class RunStoreError(RuntimeError):
    """The run store cannot be read or written (for example: locked by another process for too long)."""


@dataclass
class RunRecord:
    key: str
    run: RunSpec
    summary: str
    model_kind: str
    params: int
    status: str
    device: str | None
    owner: str | None
    pid: int | None
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    history: list[EpochMetrics] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(metrics.epoch_seconds for metrics in self.history)

    @property
    def best(self) -> EpochMetrics | None:
        return max(self.history, key=lambda metrics: metrics.val_acc) if self.history else None

    @property
    def final(self) -> EpochMetrics | None:
        return self.history[-1] if self.history else None


@dataclass
class BoardEntry:
    """A run on the class board and the sessions that trained or fetched it since the board was cleared."""
    record: RunRecord
    owners: frozenset[str]


class RunStore:
    """Thin layer over one SQLite file; each call opens its own connection, so it is thread- and process-safe."""

    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(epochs)")}
            if "checkpoint_sha256" not in columns:  # a store written before digests were recorded
                connection.execute("ALTER TABLE epochs ADD COLUMN checkpoint_sha256 TEXT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout)) as connection:
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA journal_mode = WAL")
                with connection:  # commit on success, roll back on error
                    yield connection
        except sqlite3.OperationalError as error:
            raise RunStoreError(f"run store {self.path.name}: {error}") from error
        except sqlite3.DatabaseError as error:
            raise RunStoreError(f"run store {self.path.name} is damaged: {error}") from error

    def queue(self, run: RunSpec, params: int, owner: str | None = None, keep_history: bool = False) -> None:
        """Record (or reset) the run as queued, dropping metrics of an earlier unfinished attempt unless
        `keep_history` (a resume goes on from them)."""
        key = run.key
        with self._connect() as connection:
            if not keep_history:
                connection.execute("DELETE FROM epochs WHERE key = ?", (key,))
            connection.execute(
                """INSERT INTO runs (key, spec_json, summary, model_kind, params, status, owner, created_at)
                   VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                   ON CONFLICT(key) DO UPDATE SET status='queued', error=NULL, pid=NULL, device=NULL,
                       started_at=NULL, finished_at=NULL, owner=COALESCE(excluded.owner, runs.owner),
                       created_at=excluded.created_at""",
                (key, run.canonical_json(), run.summary(), run.model.kind, params, owner, time.time()),
            )

    def mark_running(self, key: str, device: str, pid: int) -> None:
        with self._connect() as connection:
            connection.execute(
                "UPDATE runs SET status='running', device=?, pid=?, started_at=? WHERE key=?",
                (device, pid, time.time(), check_run_key(key)),
            )

    def add_epoch(self, key: str, metrics: EpochMetrics, checkpoint_sha256: str | None = None) -> None:
        with self._connect() as connection:
            connection.execute(
                """INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (key, metrics.epoch, metrics.train_loss, metrics.train_acc, metrics.val_loss,
                 metrics.val_acc, metrics.epoch_seconds, metrics.images_per_second, checkpoint_sha256),
            )

    def set_checkpoint_sha256(self, key: str, epoch: int, digest: str | None) -> None:
        with self._connect() as connection:
            connection.execute("UPDATE epochs SET checkpoint_sha256=? WHERE key=? AND epoch=?",
                               (digest, check_run_key(key), int(epoch)))

    def checkpoint_sha256(self, key: str, epoch: int) -> str | None:
        """The digest recorded when this epoch's checkpoint was written."""
        with self._connect() as connection:
            row = connection.execute("SELECT checkpoint_sha256 FROM epochs WHERE key=? AND epoch=?",
                                     (check_run_key(key), int(epoch))).fetchone()
        return row[0] if row else None

    def finish(self, key: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES or status in ACTIVE:
            raise ValueError(f"not a final status: {status}")
        with self._connect() as connection:
            connection.execute(
                "UPDATE runs SET status=?, error=?, finished_at=?, pid=NULL WHERE key=?",
                (status, error, time.time(), check_run_key(key)),
            )

    def get(self, key: str) -> RunRecord | None:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM runs WHERE key=?", (check_run_key(key),)).fetchone()
            if row is None:
                return None
            return self._record(connection, row)

    def all(self) -> list[RunRecord]:
        """Every run, newest first."""
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
            return [self._record(connection, row) for row in rows]

    def active_keys(self) -> list[str]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key FROM runs WHERE status IN ('queued','running') ORDER BY created_at"
            ).fetchall()
        return [row[0] for row in rows]

    def post(self, key: str, owner: str) -> None:
        """Put run `key` on the class board for `owner` (a session that trained or fetched it)."""
        with self._connect() as connection:
            connection.execute("INSERT OR REPLACE INTO board_posts VALUES (?, ?, ?)",
                               (check_run_key(key), str(owner), time.time()))

    def clear_board(self) -> None:
        """Start a fresh board: earlier runs stay cached but no longer appear on it."""
        with self._connect() as connection:
            connection.execute("INSERT OR REPLACE INTO settings VALUES ('board_cleared_at', ?)", (repr(time.time()),))

    def board(self) -> list[BoardEntry]:
        """Runs with at least one epoch that were trained or fetched since the board was last cleared."""
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM settings WHERE name='board_cleared_at'").fetchone()
            cleared_at = float(row[0]) if row else 0.0
            posts = connection.execute("SELECT key, owner FROM board_posts WHERE posted_at > ?",
                                       (cleared_at,)).fetchall()
            owners: dict[str, set[str]] = {}
            for key, owner in posts:
                owners.setdefault(key, set()).add(owner)
            rows = connection.execute("SELECT * FROM runs ORDER BY created_at").fetchall()
            entries = []
            for row in rows:
                key, owner, created_at = row[0], row[7], row[10]
                if created_at <= cleared_at and key not in owners:
                    continue
                record = self._record(connection, row)
                if record.history:
                    run_owners = owners.get(key, set()) | ({owner} if owner and created_at > cleared_at else set())
                    entries.append(BoardEntry(record, frozenset(run_owners)))
        return entries

    def _record(self, connection: sqlite3.Connection, row: tuple) -> RunRecord:
        (key, spec_json, summary, model_kind, params, status, device, owner, pid, error,
         created_at, started_at, finished_at) = row
        epochs = connection.execute(
            "SELECT epoch, train_loss, train_acc, val_loss, val_acc, epoch_seconds, images_per_second "
            "FROM epochs WHERE key=? ORDER BY epoch", (key,),
        ).fetchall()
        return RunRecord(
            key=key, run=run_from_json(spec_json), summary=summary, model_kind=model_kind, params=params,
            status=status, device=device, owner=owner, pid=pid, error=error, created_at=created_at,
            started_at=started_at, finished_at=finished_at, history=[EpochMetrics(*epoch) for epoch in epochs],
        )
