"""SQLite record of every run and its per-epoch metrics; the one source of truth for every page."""
from __future__ import annotations

import errno
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .metrics import EpochMetrics
from .specs import RunSpec, SpecError, run_from_json
from .storage import check_run_key, home_error

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
ORIGINS = ("trained", "imported")  # trained on this server, or brought in as a model file
# An imported run is trusted as a cached answer only when the accuracy its weights score here matches the one
# its file claims (evaluation is deterministic; other hardware moves it by a few images at most).
IMPORT_TOLERANCE = 0.005
SCHEMA_VERSION = 4  # 1: checkpoint digests; 2: origin, measured accuracy, who stopped a run; 3: node, backend;
# 4: images done in the epoch now training

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
    finished_at REAL,
    origin TEXT NOT NULL DEFAULT 'trained',
    measured_acc REAL,
    stopped_by TEXT,
    node TEXT,
    backend TEXT,
    epoch_images INTEGER
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
    """The run store cannot be read or written. `code` names why for translated messages: locked (another
    process held it for too long), disk_full, read_only, damaged."""

    def __init__(self, message: str, code: str = "locked"):
        super().__init__(message)
        self.code = code


def store_error(path: Path, error: sqlite3.DatabaseError) -> RunStoreError:
    text = str(error)
    if "disk is full" in text or "disk I/O" in text:
        return RunStoreError(str(home_error(OSError(errno.ENOSPC, text), path.parent)), "disk_full")
    if "readonly" in text or "unable to open" in text:
        return RunStoreError(str(home_error(OSError(errno.EACCES, text), path.parent)), "read_only")
    if isinstance(error, sqlite3.OperationalError):
        return RunStoreError(f"run store {path.name}: {text}", "locked")
    return RunStoreError(f"run store {path.name} is damaged: {text}", "damaged")


# Columns added after the first release, by schema version: (table, column, declaration).
MIGRATIONS = {
    1: [("epochs", "checkpoint_sha256", "TEXT")],
    2: [("runs", "origin", "TEXT NOT NULL DEFAULT 'trained'"), ("runs", "measured_acc", "REAL"),
        ("runs", "stopped_by", "TEXT")],
    3: [("runs", "node", "TEXT"), ("runs", "backend", "TEXT")],
    4: [("runs", "epoch_images", "INTEGER")],
}
EPOCH_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds", "images_per_second")


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
    origin: str = "trained"
    measured_acc: float | None = None  # imports: accuracy of the file's weights on the test set, measured here
    stopped_by: str | None = None  # who pressed Stop: a session id, "teacher", or "signal"
    node: str | None = None  # the machine that trained it (a cluster node's address, or this server's name)
    backend: str | None = None  # "local" (worker processes of this server, the CLI) or "ray" (a cluster)
    epoch_images: int | None = None  # while running: training images done so far in the epoch after `history`

    @property
    def verified(self) -> bool:
        """Trained here, or imported with a claimed final accuracy that its weights really score here."""
        if self.origin != "imported":
            return True
        final = self.final
        return (self.measured_acc is not None and final is not None
                and abs(self.measured_acc - final.val_acc) <= IMPORT_TOLERANCE)

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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise home_error(error, self.path.parent) from None
        with self._connect() as connection:
            connection.executescript(SCHEMA)
            self._migrate(connection)

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> None:
        """Bring a store written by an earlier version up to SCHEMA_VERSION (CREATE TABLE IF NOT EXISTS does not
        add columns to a table that is already there)."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for table, column, declaration in MIGRATIONS[step]:
                columns = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        if version < SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout)) as connection:
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA journal_mode = WAL")
                with connection:  # commit on success, roll back on error
                    yield connection
        except sqlite3.DatabaseError as error:
            raise store_error(self.path, error) from error

    def queue(self, run: RunSpec, params: int, owner: str | None = None, keep_history: bool = False,
              origin: str = "trained") -> None:
        """Record (or reset) the run as queued, dropping metrics of an earlier unfinished attempt unless
        `keep_history` (a resume goes on from them)."""
        key = run.key
        with self._connect() as connection:
            if not keep_history:
                connection.execute("DELETE FROM epochs WHERE key = ?", (key,))
            connection.execute(
                """INSERT INTO runs (key, spec_json, summary, model_kind, params, status, owner, created_at, origin)
                   VALUES (:key, :spec_json, :summary, :model_kind, :params, 'queued', :owner, :created_at,
                           :origin)
                   ON CONFLICT(key) DO UPDATE SET status='queued', error=NULL, pid=NULL, device=NULL,
                       started_at=NULL, finished_at=NULL, owner=COALESCE(excluded.owner, runs.owner),
                       created_at=excluded.created_at, spec_json=excluded.spec_json, summary=excluded.summary,
                       model_kind=excluded.model_kind, params=excluded.params, origin=excluded.origin,
                       measured_acc=NULL, stopped_by=NULL""",
                {"key": key, "spec_json": run.canonical_json(), "summary": run.summary(),
                 "model_kind": run.model.kind, "params": params, "owner": owner, "created_at": time.time(),
                 "origin": origin},
            )

    def mark_running(self, key: str, device: str, pid: int, node: str | None = None,
                     backend: str = "local") -> None:
        """The run has started training on `device` of `node`; `pid` is the process that answers for it here
        (a worker, the CLI, or the server that drives a cluster task): when it is gone, the run is orphaned."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE runs SET status='running', epoch_images=NULL, device=:device, pid=:pid, started_at=:now, "
                "node=:node, backend=:backend WHERE key=:key",
                {"device": device, "pid": pid, "now": time.time(), "node": node or socket.gethostname(),
                 "backend": backend, "key": check_run_key(key)},
            )

    def set_epoch_images(self, key: str, images: int) -> None:
        """Progress inside the epoch now training: how many of its training images are done."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET epoch_images=? WHERE key=? AND status='running'",
                               (int(images), check_run_key(key)))

    def add_epoch(self, key: str, metrics: EpochMetrics, checkpoint_sha256: str | None = None) -> None:
        with self._connect() as connection:
            connection.execute("UPDATE runs SET epoch_images=NULL WHERE key=?", (check_run_key(key),))
            connection.execute(
                f"""INSERT OR REPLACE INTO epochs (key, {", ".join(EPOCH_COLUMNS)}, checkpoint_sha256)
                    VALUES (:key, {", ".join(":" + name for name in EPOCH_COLUMNS)}, :checkpoint_sha256)""",
                {"key": check_run_key(key), **metrics.to_dict(), "checkpoint_sha256": checkpoint_sha256},
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
        return row["checkpoint_sha256"] if row else None

    def finish(self, key: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES or status in ACTIVE:
            raise ValueError(f"not a final status: {status}")
        with self._connect() as connection:
            connection.execute(
                "UPDATE runs SET status=:status, error=:error, finished_at=:now, pid=NULL, epoch_images=NULL "
                "WHERE key=:key",
                {"status": status, "error": error, "now": time.time(), "key": check_run_key(key)},
            )

    def claim(self, key: str, pid: int) -> None:
        """Name the process that answers for a run before it starts training (a run waiting on a cluster): while
        it lives, the run is not orphaned."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET pid=:pid WHERE key=:key", {"pid": pid, "key": check_run_key(key)})

    def mark_imported(self, key: str, measured_acc: float) -> None:
        """Record that run `key` came from a model file, and what its weights really score on the test set."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET origin='imported', measured_acc=:measured WHERE key=:key",
                               {"measured": float(measured_acc), "key": check_run_key(key)})

    def mark_stopped_by(self, key: str, who: str) -> None:
        """Remember who asked an active run to stop, before the worker records it as cancelled."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET stopped_by=:who WHERE key=:key AND status IN ('queued','running')",
                               {"who": who, "key": check_run_key(key)})

    def get(self, key: str) -> RunRecord | None:
        """The run, or None when there is none (or its row holds a spec this version cannot read)."""
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM runs WHERE key=?", (check_run_key(key),)).fetchone()
            if row is None:
                return None
            return self._record(connection, row)

    def all(self) -> list[RunRecord]:
        """Every readable run, newest first."""
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
            return [record for row in rows if (record := self._record(connection, row)) is not None]

    def active_keys(self) -> list[str]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key FROM runs WHERE status IN ('queued','running') ORDER BY created_at"
            ).fetchall()
        return [row["key"] for row in rows]

    def active_workers(self) -> list[tuple[str, int | None, float]]:
        """(key, worker pid, queued at) of every queued or running run."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key, pid, created_at FROM runs WHERE status IN ('queued','running')").fetchall()
        return [(row["key"], row["pid"], row["created_at"]) for row in rows]

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
            cleared_at = float(row["value"]) if row else 0.0
            posts = connection.execute("SELECT key, owner FROM board_posts WHERE posted_at > ?",
                                       (cleared_at,)).fetchall()
            owners: dict[str, set[str]] = {}
            for post in posts:
                owners.setdefault(post["key"], set()).add(post["owner"])
            rows = connection.execute("SELECT * FROM runs ORDER BY created_at").fetchall()
            entries = []
            for row in rows:
                key, owner, created_at = row["key"], row["owner"], row["created_at"]
                if created_at <= cleared_at and key not in owners:
                    continue
                record = self._record(connection, row)
                # A model file's unverified claim never reaches the class's board.
                if record is not None and record.history and record.verified:
                    run_owners = owners.get(key, set()) | ({owner} if owner and created_at > cleared_at else set())
                    entries.append(BoardEntry(record, frozenset(run_owners)))
        return entries

    def _record(self, connection: sqlite3.Connection, row: sqlite3.Row) -> RunRecord | None:
        """The record of a row, or None when its spec cannot be read (a damaged row, or one from a version with
        other limits): one bad row must not take every page down."""
        try:
            run = run_from_json(row["spec_json"])
        except SpecError:
            return None
        epochs = connection.execute(
            f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE key=? ORDER BY epoch", (row["key"],),
        ).fetchall()
        return RunRecord(
            key=row["key"], run=run, summary=row["summary"], model_kind=row["model_kind"], params=row["params"],
            status=row["status"], device=row["device"], owner=row["owner"], pid=row["pid"], error=row["error"],
            created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
            history=[EpochMetrics(**{name: epoch[name] for name in EPOCH_COLUMNS}) for epoch in epochs],
            origin=row["origin"], measured_acc=row["measured_acc"], stopped_by=row["stopped_by"],
            node=row["node"], backend=row["backend"], epoch_images=row["epoch_images"],
        )


def concurrent_runs(record: RunRecord, records: list[RunRecord]) -> int:
    """How many other runs trained on this server while `record` trained (their training times overlapped): its
    time is then no fair measure of its model's cost."""
    if record.started_at is None or record.finished_at is None:
        return 0
    return sum(1 for other in records
               if other.key != record.key and other.started_at is not None and other.backend != "ray"
               and other.started_at < record.finished_at
               and (other.finished_at is None or other.finished_at > record.started_at))
