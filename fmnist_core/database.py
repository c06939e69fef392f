"""Where the run store keeps its rows: an SQLite file under FMNIST_HOME (the embedded default: no server, nothing
to install) or a PostgreSQL server (`FMNIST_DATABASE_URL=postgresql://…`, for several app processes or machines).
The store's SQL is written once, with `:name` and `?` parameters; each database runs it in its own dialect and
says what it cannot do in the store's words (RunStoreError). A URL's password never appears in a message."""
from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from .storage import home_error

DATABASE_URL_VARIABLE = "FMNIST_DATABASE_URL"
SQLITE_NAME = "runs.sqlite3"
CONNECT_SECONDS = 10.0  # how long a page waits for the database before it says the store is unavailable
POOL_WAIT_SECONDS = 5.0  # how long a call waits for a pooled connection (all busy, or the server gone)
RETRY_SECONDS = 2.0  # after the server failed, calls within this time fail at once instead of waiting again


class RunStoreError(RuntimeError):
    """The run store cannot be read or written. `code` names why for translated messages: locked (another
    process held it for too long), disk_full, read_only, damaged, unavailable (its server does not answer)."""

    def __init__(self, message: str, code: str = "locked"):
        super().__init__(message)
        self.code = code


class Database(Protocol):
    """What the run store needs of a database."""

    kind: str  # "sqlite" | "postgresql"

    def transaction(self):
        """A context manager: one transaction, committed on success; its connection's `execute(sql, params)`
        returns rows readable by column name (`fetchone`, `fetchall`, `rowcount`)."""

    def schema_version(self, connection) -> int: ...

    def set_schema_version(self, connection, version: int) -> None: ...

    def columns(self, connection, table: str) -> set[str]: ...

    def create(self, connection, schema: str) -> None: ...

    def describe(self) -> str:
        """Where the rows are, for messages (no password)."""


def store_error(path: Path, error: sqlite3.DatabaseError) -> RunStoreError:
    text = str(error)
    if "disk is full" in text or "disk I/O" in text:
        import errno

        return RunStoreError(str(home_error(OSError(errno.ENOSPC, text), path.parent)), "disk_full")
    if "readonly" in text or "unable to open" in text:
        import errno

        return RunStoreError(str(home_error(OSError(errno.EACCES, text), path.parent)), "read_only")
    if isinstance(error, sqlite3.OperationalError):
        return RunStoreError(f"run store {path.name}: {text}", "locked")
    return RunStoreError(f"run store {path.name} is damaged: {text}", "damaged")


class SQLiteDatabase:
    """One SQLite file; each transaction opens its own connection, so it is thread- and process-safe."""

    kind = "sqlite"

    def __init__(self, path: Path, timeout: float = CONNECT_SECONDS):
        self.path = Path(path)
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise home_error(error, self.path.parent) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout)) as connection:
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA journal_mode = WAL")
                with connection:  # commit on success, roll back on error
                    yield connection
        except sqlite3.DatabaseError as error:
            raise store_error(self.path, error) from error

    def schema_version(self, connection) -> int:
        return connection.execute("PRAGMA user_version").fetchone()[0]

    def set_schema_version(self, connection, version: int) -> None:
        connection.execute(f"PRAGMA user_version = {int(version)}")

    def columns(self, connection, table: str) -> set[str]:
        return {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}

    def create(self, connection, schema: str) -> None:
        connection.executescript(schema)

    def describe(self) -> str:
        return str(self.path)


def safe_url(url: str) -> str:
    """A database URL without its user name and password: what messages and logs may show. The user part is cut at
    the last "@" before anything is parsed: a password may hold "/", "@" or ":"."""
    scheme, separator, rest = url.partition("://")
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    try:
        parts = urlsplit(f"{scheme}{separator}{rest}")
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the database of FMNIST_DATABASE_URL"
    return f"{parts.scheme}://{host}{port}{parts.path}"


# `:name` and `?` parameters (the store's SQL) as psycopg's `%(name)s` and `%s`; a literal % doubled.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def pyformat(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")


class _PostgresConnection:
    """A psycopg connection that takes the store's SQL."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql: str, parameters=()):
        return self.connection.execute(pyformat(sql), parameters or None)


class PostgresDatabase:
    """A PostgreSQL server through a pool of psycopg connections (psycopg 3, psycopg_pool)."""

    kind = "postgresql"

    def __init__(self, url: str, timeout: float = CONNECT_SECONDS, pool_size: int = 8):
        try:
            import psycopg  # an optional requirement (requirements-postgres.txt)
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError as error:
            raise RunStoreError(f"{DATABASE_URL_VARIABLE} is set but psycopg is not installed ({error.name}); "
                                "pip install -r requirements-postgres.txt", "unavailable") from None
        self.url = url
        self.timeout = timeout
        self._pool_size = pool_size
        self._make_pool = lambda: ConnectionPool(
            url, min_size=1, max_size=pool_size, timeout=min(timeout, POOL_WAIT_SECONDS), open=False,
            # a connection is tried before it is handed out: a server restarted mid-class costs one error at most
            check=ConnectionPool.check_connection,
            kwargs={"row_factory": dict_row, "connect_timeout": max(1, int(timeout))})
        self._lock = threading.Lock()
        self._down_since: float | None = None  # the server stopped answering (monotonic), None while it answers
        try:  # one connection first: an unreachable server is one clear error at once, not a pool's retries
            psycopg.connect(url, connect_timeout=max(1, int(timeout))).close()
        except psycopg.Error as error:
            raise self._unavailable(error) from None
        self.pool = self._make_pool()
        try:
            self.pool.open(wait=True, timeout=timeout)
        except Exception as error:  # noqa: BLE001 - any failure to connect is the same answer
            self.pool.close()
            raise self._unavailable(error) from None

    def _unavailable(self, error: Exception) -> RunStoreError:
        reason = type(error).__name__
        return RunStoreError(f"the run store's database at {safe_url(self.url)} does not answer ({reason})",
                             "unavailable")

    def _recover(self) -> None:
        """While the server is down: fail at once within RETRY_SECONDS of the last failure (a page makes several
        calls: each must not wait again); after that, try a connection of our own, and when the server answers
        again, a fresh pool (the old one's reconnection backs off for longer and longer)."""
        import psycopg

        with self._lock:
            if self._down_since is None:
                return
            if time.monotonic() - self._down_since < RETRY_SECONDS:
                raise RunStoreError(f"the run store's database at {safe_url(self.url)} does not answer",
                                    "unavailable")
            try:
                psycopg.connect(self.url, connect_timeout=max(1, int(RETRY_SECONDS))).close()
            except psycopg.Error as error:
                self._down_since = time.monotonic()
                raise self._unavailable(error) from None
            old, self.pool = self.pool, self._make_pool()
            self.pool.open(wait=False)
            old.close(timeout=0.2)
            self._down_since = None

    @contextmanager
    def transaction(self) -> Iterator[_PostgresConnection]:
        import psycopg
        from psycopg_pool import PoolTimeout

        self._recover()
        try:
            with self.pool.connection() as connection, connection.transaction():
                yield _PostgresConnection(connection)
        except (psycopg.OperationalError, PoolTimeout) as error:
            with self._lock:
                self._down_since = time.monotonic()
            raise self._unavailable(error) from None
        except psycopg.errors.UndefinedTable as error:
            raise RunStoreError(f"the run store at {safe_url(self.url)} is damaged: {error.diag.message_primary}",
                                "damaged") from None

    def schema_version(self, connection) -> int:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        return row["version"] if row else 0

    def set_schema_version(self, connection, version: int) -> None:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        connection.execute("DELETE FROM schema_version")
        connection.execute("INSERT INTO schema_version (version) VALUES (?)", (int(version),))

    def columns(self, connection, table: str) -> set[str]:
        rows = connection.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                  (table,)).fetchall()
        return {row["column_name"] for row in rows}

    def create(self, connection, schema: str) -> None:
        connection.execute("SELECT pg_advisory_xact_lock(42420)")  # replicas starting together create it once
        for statement in schema.split(";"):
            if statement.strip():
                connection.execute(statement)

    def describe(self) -> str:
        return safe_url(self.url)

    def close(self) -> None:
        self.pool.close()


def open_database(home: Path, environ=os.environ) -> Database:
    """PostgreSQL when FMNIST_DATABASE_URL names one, else the SQLite file under `home`."""
    url = environ.get(DATABASE_URL_VARIABLE, "").strip()
    if not url:
        return SQLiteDatabase(Path(home) / SQLITE_NAME)
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise RunStoreError(f"{DATABASE_URL_VARIABLE} must start with postgresql:// (it names {safe_url(url)})",
                            "unavailable")
    return _postgres(url)


_POOLS: dict[str, PostgresDatabase] = {}  # one pool per URL and process: every page and thread shares it


def _postgres(url: str) -> PostgresDatabase:
    database = _POOLS.get(url)
    if database is None or database.pool.closed:
        database = _POOLS[url] = PostgresDatabase(url)
    return database
