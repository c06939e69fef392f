"""The record of every run and its per-epoch metrics, of classes and their boards: the one source of truth for
every page, every app process and the command line."""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from .database import Database, RunStoreError, SQLiteDatabase, store_error  # noqa: F401 - RunStoreError lives here too
from .metrics import METRIC_FIELDS, EpochMetrics
from .specs import RunSpec, SpecError, run_from_json
from .storage import check_run_key

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted", "evicted")
ACTIVE = ("queued", "running")
ORIGINS = ("trained", "imported")  # trained on this server, or brought in as a model file
# An imported run is trusted as a cached answer only when the accuracy its weights score here matches the one
# its file claims (evaluation is deterministic; other hardware moves it by a few images at most).
IMPORT_TOLERANCE = 0.005
SCHEMA_VERSION = 6  # 1: checkpoint digests; 2: origin, measured accuracy, who stopped a run; 3: node, backend;
# 4: images done in the epoch now training; 5: classes and their members, a board per class, when a run was last used;
# 6: the process that drives a run and its lease (driver, heartbeat), a stop asked from another process

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
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    origin TEXT NOT NULL DEFAULT 'trained',
    measured_acc DOUBLE PRECISION,
    stopped_by TEXT,
    node TEXT,
    backend TEXT,
    epoch_images INTEGER,
    last_used_at DOUBLE PRECISION,
    driver TEXT,
    heartbeat_at DOUBLE PRECISION,
    stop_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS epochs (
    key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    """ + "".join(f"{name} DOUBLE PRECISION, " for name in METRIC_FIELDS if name != "epoch") + """
    checkpoint_sha256 TEXT,
    PRIMARY KEY (key, epoch)
);
CREATE TABLE IF NOT EXISTS board_posts (
    key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    class_code TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (key, owner)
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    running_cap INTEGER,
    board_cleared_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS class_members (
    member TEXT PRIMARY KEY,
    code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE,
    joined_at DOUBLE PRECISION NOT NULL
);
"""
NO_CLASS = ""  # the class_code of a post by a student in no class: the server's own board, as before classes


# Columns added after the first release, by schema version: (table, column, declaration).
MIGRATIONS = {
    1: [("epochs", "checkpoint_sha256", "TEXT")],
    2: [("runs", "origin", "TEXT NOT NULL DEFAULT 'trained'"), ("runs", "measured_acc", "DOUBLE PRECISION"),
        ("runs", "stopped_by", "TEXT")],
    3: [("runs", "node", "TEXT"), ("runs", "backend", "TEXT")],
    4: [("runs", "epoch_images", "INTEGER")],
    5: [("runs", "last_used_at", "DOUBLE PRECISION"), ("board_posts", "class_code", "TEXT NOT NULL DEFAULT ''")],
    6: [("runs", "driver", "TEXT"), ("runs", "heartbeat_at", "DOUBLE PRECISION"),
        ("runs", "stop_requested", "INTEGER NOT NULL DEFAULT 0")],
}
EPOCH_COLUMNS = METRIC_FIELDS  # a metric declared in metrics.py gets its column when a store opens (_migrate)


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
    last_used_at: float | None = None  # last trained, fetched or opened: the disk quota evicts the least recent
    driver: str | None = None  # the process that answers for a queued or running run (lease.py)
    heartbeat_at: float | None = None  # when that process last said it is alive
    stop_requested: bool = False  # Stop was pressed in another app process than the one driving the run

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
    """Every run, its epochs, the classes and their boards, in one database (database.py: an SQLite file, or a
    PostgreSQL server shared by several app processes). Each call is one transaction of its own, so it is thread-
    and process-safe. The same SQL, schema versions and migrations for both databases."""

    def __init__(self, database: Database | Path):
        self.database = database if not isinstance(database, (str, Path)) else SQLiteDatabase(Path(database))
        with self._connect() as connection:
            self.database.create(connection, SCHEMA)
            self._migrate(connection)

    @property
    def path(self) -> Path | None:
        """The SQLite file, None on a database server."""
        return getattr(self.database, "path", None)

    @property
    def timeout(self) -> float:
        return self.database.timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self.database.timeout = seconds

    def _migrate(self, connection) -> None:
        """Bring a store written by an earlier version up to SCHEMA_VERSION (CREATE TABLE IF NOT EXISTS does not
        add columns to a table that is already there)."""
        version = self.database.schema_version(connection)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for table, column, declaration in MIGRATIONS[step]:
                if column not in self.database.columns(connection, table):
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        if version < SCHEMA_VERSION:
            self.database.set_schema_version(connection, SCHEMA_VERSION)
        present = self.database.columns(connection, "epochs")
        for name in EPOCH_COLUMNS:  # a metric added to EpochMetrics since this store was made
            if name not in present:
                connection.execute(f"ALTER TABLE epochs ADD COLUMN {name} DOUBLE PRECISION")

    def transaction(self):
        """One transaction on the store's database (rows by column name): what the class store builds on."""
        return self._connect()

    def _connect(self):
        return self.database.transaction()

    def queue(self, run: RunSpec, params: int, owner: str | None = None, keep_history: bool = False,
              origin: str = "trained") -> None:
        """Record (or reset) the run as queued, dropping metrics of an earlier unfinished attempt unless
        `keep_history` (a resume goes on from them)."""
        key = run.key
        with self._connect() as connection:
            if not keep_history:
                connection.execute("DELETE FROM epochs WHERE key = ?", (key,))
            connection.execute(
                """INSERT INTO runs (key, spec_json, summary, model_kind, params, status, owner, created_at, origin,
                                    last_used_at)
                   VALUES (:key, :spec_json, :summary, :model_kind, :params, 'queued', :owner, :created_at,
                           :origin, :created_at)
                   ON CONFLICT(key) DO UPDATE SET status='queued', error=NULL, pid=NULL, device=NULL,
                       last_used_at=excluded.created_at,
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
            updates = ", ".join(f"{name}=excluded.{name}" for name in (*EPOCH_COLUMNS[1:], "checkpoint_sha256"))
            connection.execute(
                f"""INSERT INTO epochs (key, {", ".join(EPOCH_COLUMNS)}, checkpoint_sha256)
                    VALUES (:key, {", ".join(":" + name for name in EPOCH_COLUMNS)}, :checkpoint_sha256)
                    ON CONFLICT (key, epoch) DO UPDATE SET {updates}""",
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
                "UPDATE runs SET status=:status, error=:error, finished_at=:now, pid=NULL, epoch_images=NULL, "
                "driver=NULL, heartbeat_at=NULL, stop_requested=0 "
                "WHERE key=:key",
                {"status": status, "error": error, "now": time.time(), "key": check_run_key(key)},
            )

    def claim(self, run: RunSpec, params: int, driver: str, lease_seconds: float, owner: str | None = None,
              keep_history: bool = False, origin: str = "trained") -> bool:
        """Record the run as queued and driven by `driver`, unless another live process already drives it (a
        queued or running run whose lease was renewed within `lease_seconds`): one atomic statement on either
        database, so two pages, app processes or commands asking at once train it once. True when claimed."""
        now = time.time()
        values = {"key": run.key, "spec_json": run.canonical_json(), "summary": run.summary(),
                  "model_kind": run.model.kind, "params": params, "owner": owner, "now": now, "origin": origin,
                  "driver": driver, "stale": now - lease_seconds}
        with self._connect() as connection:
            claimed = connection.execute(
                """INSERT INTO runs (key, spec_json, summary, model_kind, params, status, owner, created_at, origin,
                                    last_used_at, driver, heartbeat_at, stop_requested)
                   VALUES (:key, :spec_json, :summary, :model_kind, :params, 'queued', :owner, :now, :origin, :now,
                           :driver, :now, 0)
                   ON CONFLICT(key) DO UPDATE SET status='queued', error=NULL, pid=NULL, device=NULL,
                       started_at=NULL, finished_at=NULL, owner=COALESCE(excluded.owner, runs.owner),
                       created_at=excluded.created_at, spec_json=excluded.spec_json, summary=excluded.summary,
                       model_kind=excluded.model_kind, params=excluded.params, origin=excluded.origin,
                       measured_acc=NULL, stopped_by=NULL, last_used_at=excluded.created_at, epoch_images=NULL,
                       driver=excluded.driver, heartbeat_at=excluded.heartbeat_at, stop_requested=0
                   WHERE runs.status NOT IN ('queued', 'running')
                      OR COALESCE(runs.heartbeat_at, runs.created_at) < :stale""", values).rowcount == 1
            if claimed and not keep_history:
                connection.execute("DELETE FROM epochs WHERE key = ?", (run.key,))
        return claimed

    def renew(self, driver: str, keys: list[str]) -> None:
        """`driver` is alive and still drives these runs (its lease goes on)."""
        if not keys:
            return
        marks = ", ".join("?" for _ in keys)
        with self._connect() as connection:
            connection.execute(f"UPDATE runs SET heartbeat_at=? WHERE driver=? AND key IN ({marks})",
                               (time.time(), driver, *map(check_run_key, keys)))

    def expired(self, lease_seconds: float) -> list[str]:
        """Queued or running runs whose driver has not renewed its lease for `lease_seconds`: it died."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key FROM runs WHERE status IN ('queued','running') "
                "AND COALESCE(heartbeat_at, created_at) < ?", (time.time() - lease_seconds,)).fetchall()
        return [row["key"] for row in rows]

    def request_stop(self, key: str, who: str) -> None:
        """Ask whichever process drives run `key` to stop it (it looks at every poll)."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET stop_requested=1, stopped_by=:who WHERE key=:key "
                               "AND status IN ('queued','running')", {"who": who, "key": check_run_key(key)})

    def stops_requested(self, keys: list[str]) -> list[str]:
        """Which of these runs another process asked to stop."""
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        with self._connect() as connection:
            rows = connection.execute(f"SELECT key FROM runs WHERE stop_requested=1 AND key IN ({marks})",
                                      tuple(keys)).fetchall()
        return [row["key"] for row in rows]

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

    def post(self, key: str, owner: str) -> None:
        """Put run `key` on the board of `owner`'s class (or the server's board, for a session in no class): a
        session that trained or fetched it. The run counts as used now."""
        now = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO board_posts (key, owner, posted_at, class_code) VALUES (?, ?, ?, "
                "COALESCE((SELECT code FROM class_members WHERE member = ?), '')) "
                "ON CONFLICT (key, owner) DO UPDATE SET posted_at=excluded.posted_at, class_code=excluded.class_code",
                (check_run_key(key), str(owner), now, str(owner)))
            connection.execute("UPDATE runs SET last_used_at=? WHERE key=?", (now, key))

    def touch(self, key: str) -> None:
        """Run `key` was opened just now (the disk quota keeps recently used runs)."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET last_used_at=? WHERE key=?", (time.time(), check_run_key(key)))

    def clear_board(self, class_code: str | None = None) -> None:
        """Start a fresh board for a class (or the server's board): earlier runs stay cached but no longer appear."""
        with self._connect() as connection:
            if class_code:
                connection.execute("UPDATE classes SET board_cleared_at=? WHERE code=?", (time.time(), class_code))
            else:
                connection.execute("INSERT INTO settings (name, value) VALUES ('board_cleared_at', ?) "
                                   "ON CONFLICT (name) DO UPDATE SET value=excluded.value", (repr(time.time()),))

    def _board_posts(self, connection, class_code: str | None) -> tuple[float, dict[str, set[str]]]:
        """(when the board was cleared, run key → the sessions that posted it since) for one board."""
        if class_code:
            row = connection.execute("SELECT board_cleared_at FROM classes WHERE code=?", (class_code,)).fetchone()
            cleared_at = row["board_cleared_at"] if row else 0.0
        else:
            row = connection.execute("SELECT value FROM settings WHERE name='board_cleared_at'").fetchone()
            cleared_at = float(row["value"]) if row else 0.0
        posts = connection.execute("SELECT key, owner FROM board_posts WHERE posted_at > ? AND class_code = ?",
                                   (cleared_at, class_code or NO_CLASS)).fetchall()
        owners: dict[str, set[str]] = {}
        for post in posts:
            owners.setdefault(post["key"], set()).add(post["owner"])
        return cleared_at, owners

    def board(self, class_code: str | None = None) -> list[BoardEntry]:
        """Runs with at least one epoch that the class's sessions (or, without a class, sessions in no class and
        the command line) trained or fetched since its board was last cleared."""
        with self._connect() as connection:
            cleared_at, owners = self._board_posts(connection, class_code)
            members = {row["member"] for row in connection.execute("SELECT member FROM class_members")}
            rows = connection.execute("SELECT * FROM runs ORDER BY created_at").fetchall()
            entries = []
            for row in rows:
                key, owner, created_at = row["key"], row["owner"], row["created_at"]
                # the server's board also shows runs queued by the command line or precompute (they post nothing)
                queued_here = (not class_code and owner and owner not in members and created_at > cleared_at)
                if key not in owners and not queued_here:
                    continue
                record = self._record(connection, row)
                # A model file's unverified claim never reaches a class's board.
                if record is not None and record.history and record.verified and record.status != "evicted":
                    run_owners = owners.get(key, set()) | ({owner} if queued_here else set())
                    entries.append(BoardEntry(record, frozenset(run_owners)))
        return entries

    def keys_on_boards(self) -> set[str]:
        """Every run some board shows now, a class's or the server's (the command line's runs too): what the disk
        quota never evicts. The boards' own query, so the two cannot disagree."""
        with self._connect() as connection:
            codes = [row["code"] for row in connection.execute("SELECT code FROM classes")]
        return {entry.record.key for code in [None, *codes] for entry in self.board(code)}

    def class_active_keys(self, class_code: str) -> list[str]:
        """Queued or running runs that a member of the class trained or joined: the class's jobs."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key FROM runs WHERE status IN ('queued','running') AND key IN "
                "(SELECT key FROM board_posts WHERE class_code = ?) ORDER BY created_at", (class_code,)).fetchall()
        return [row["key"] for row in rows]

    def mark_evicted(self, key: str, reason: str) -> bool:
        """Record that the run's checkpoints go to free disk (its row stays and says so; asking again trains it),
        unless it is queued or training again meanwhile (another app process resumed it): False then, and its
        files must stay."""
        with self._connect() as connection:
            marked = connection.execute(
                "UPDATE runs SET status='evicted', error=?, pid=NULL "
                "WHERE key=? AND status NOT IN ('queued','running')",
                (reason, check_run_key(key))).rowcount == 1
            if marked:
                connection.execute("UPDATE epochs SET checkpoint_sha256=NULL WHERE key=?", (key,))
        return marked

    def delete(self, key: str) -> None:
        """Forget run `key` entirely (its epochs and board posts go with it)."""
        with self._connect() as connection:
            connection.execute("DELETE FROM runs WHERE key=?", (check_run_key(key),))

    def _record(self, connection, row) -> RunRecord | None:
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
            history=[EpochMetrics.from_values({name: epoch[name] for name in EPOCH_COLUMNS}) for epoch in epochs],
            origin=row["origin"], measured_acc=row["measured_acc"], stopped_by=row["stopped_by"],
            node=row["node"], backend=row["backend"], epoch_images=row["epoch_images"],
            last_used_at=row["last_used_at"], driver=row["driver"], heartbeat_at=row["heartbeat_at"],
            stop_requested=bool(row["stop_requested"]),
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
