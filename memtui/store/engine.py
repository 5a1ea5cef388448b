"""The store's database: the engine (SQLite or PostgreSQL), the schema set-up, and the
transaction helper every repository runs its work in.

- Every public write is one short transaction (`Database.write`). Its change-feed rows
  are inserted in that same transaction, so the feed holds exactly the committed writes.
- SQLite: WAL, busy_timeout, foreign keys, and BEGIN IMMEDIATE for writes (a deferred
  transaction that later upgrades to a write lock can fail without waiting). On top of
  the busy timeout, a locked database is retried with backoff, so callers never see
  "database is locked".
- PostgreSQL: writers take a transaction-scoped advisory lock right before they append
  to the change feed, so change ids are committed in id order and a reader following
  the feed by cursor can never skip a late-committing lower id.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import time as _time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from sqlite3 import Error as SQLiteError
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, insert, literal, select, text, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from memtui.config import PRIVATE_FILE_MODE, default_db_path, make_private_dir
from memtui.domain.actor import current_actor
from memtui.domain.errors import BackendUnavailableError, InvalidInputError, MemtuiError
from memtui.domain.models import Agent
from memtui.domain.safe_json import loads_stored
from memtui.store.errors import is_retryable, to_memtui_error
from memtui.store.rows import change_t, meta_t
from memtui.store.sqlite_file import (
    OpenMode,
    ReadOnlyWalError,
    check_damage,
    open_mode,
)
from memtui.store.sqlite_file import uri as sqlite_uri
from memtui.store.tables import SCHEMA_VERSION, STORE_TABLES

T = TypeVar("T")

# The store's reads wait briefly: in WAL mode they never wait for writers, so a read
# that meets a lock meets a process holding the whole file (exclusive locking mode, a
# rollback-journal writer): say so rather than hang.
READ_BUSY_MS = 1000
READ_RETRY_SECONDS = 2.0

BUSY_TIMEOUT_MS = 5000
LOCK_RETRY_SECONDS = 30.0  # total time a write keeps retrying a locked database
log = logging.getLogger("memtui.store")

# Serialises change-feed appends on PostgreSQL (arbitrary constant: "memtui" in ASCII).
CHANGE_FEED_LOCK_KEY = 0x6D656D747569
# PostgreSQL NOTIFY channel: a notification after every commit that appended changes.
CHANGE_CHANNEL = "memtui_changes"


class Retry(Exception):
    """Raised inside a transaction to run it again (lost a benign race)."""


class Tx:
    """One transaction: the connection plus the change rows it will append."""

    __slots__ = ("conn", "now", "changes", "agents")

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.changes: list[dict[str, Any]] = []
        self.agents: dict[str, Agent] = {}  # agents met in this transaction, by id or name

    def emit(
        self,
        kind: str,
        entity_id: str,
        *,
        agent_id: str | None = None,
        session_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.changes.append(
            {
                "kind": kind,
                "entity_id": entity_id,
                "agent_id": agent_id,
                "session_id": session_id,
                "at": self.now,
                "data": data,
                "actor": current_actor(),  # who made it: the history's attribution
            }
        )


def _ensure_parent_directory(path: Path) -> None:
    """Only the default store's directory is created. A missing directory in a path the
    user gave (`--db`, MEMTUI_DB, the config file) is most likely a typo: refuse it and
    create nothing, rather than an empty store that reports "no sessions"."""
    parent = path.parent
    if parent.is_dir():
        return
    if path.absolute() != default_db_path().expanduser().absolute():
        raise InvalidInputError(
            f"the directory {str(parent)!r} of the database {path.name!r} does not exist "
            "(check the path, or create the directory first)",
            field="db",
            value=str(path),
        )
    try:
        make_private_dir(parent)
    except OSError as exc:
        raise BackendUnavailableError(
            f"cannot create the directory for the database {path}: {exc.strerror}"
        ) from exc


def _create_private_file(path: Path) -> None:
    """Creates a missing database file empty and 0600 before SQLite opens it (SQLite
    would create it with the umask's mode, usually 0644). SQLite gives the -wal and
    -shm files it creates later the database file's mode, so they are 0600 too. An
    existing file keeps the mode its owner chose."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite's own open says what is wrong, in the store's words
    os.close(fd)


def parse_url(url_text: str) -> URL:
    """A SQLAlchemy URL memtui can open (sqlite or postgresql), or InvalidInputError."""
    try:
        url = make_url(url_text)
    except (ArgumentError, ValueError) as exc:
        raise InvalidInputError(
            f"invalid database URL {url_text!r}: expected e.g. sqlite:///path/to/file.db "
            f"or postgresql+psycopg://user@host/dbname",
            field="db",
            value=url_text,
        ) from exc
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInputError(
            f"invalid database URL {url.render_as_string(hide_password=True)!r}: "
            f"memtui supports sqlite:/// and postgresql+psycopg:// URLs, not {backend!r}",
            field="db",
            value=url.render_as_string(hide_password=True),
        )
    return url


class Database:
    """One store's engine and transactions, shared by its repositories. Thread-safe."""

    sqlite_path: Path | None = None  # a SQLite file store's file
    read_only = False  # a SQLite file memtui may not write (see memtui.store.sqlite_file)
    closed = False

    def __init__(self, url: URL, *, now: Callable[[], datetime]) -> None:
        self.url = url
        self.dialect_name = url.get_backend_name()
        self.description = url.render_as_string(hide_password=True)
        self._now = now
        # A random name for this store object, the payload of its change notifications.
        self.change_origin = secrets.token_hex(8)
        self.engine: Engine = self._create_engine(url)
        try:
            self._init_schema()
        except BaseException:
            self.engine.dispose()
            raise

    def dispose(self) -> None:
        self.closed = True
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect_name == "sqlite"

    def _create_engine(self, url: URL) -> Engine:
        masked = url.render_as_string(hide_password=True)
        try:
            if url.get_backend_name() == "sqlite":
                return self._create_sqlite_engine(url)
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")  # the driver we ship
            return create_engine(
                url,
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args={"connect_timeout": 10},
                json_deserializer=loads_stored,
            )
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise InvalidInputError(
                f"invalid database URL {masked!r}: {exc}", field="db", value=masked
            ) from exc

    def _create_sqlite_engine(self, url: URL) -> Engine:
        database = url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        mode = OpenMode.READ_WRITE
        path = Path()
        creator: dict[str, Any] = {}
        if not in_memory:
            path = Path(database).expanduser()
            _ensure_parent_directory(path)
            _create_private_file(path)
            url = url.set(database=str(path))
            self.sqlite_path = path
            try:
                mode = open_mode(path)
            except ReadOnlyWalError as exc:
                raise BackendUnavailableError(
                    f"cannot open the database {self.description}: {exc}"
                ) from exc
            self._check_sqlite_file(path, mode)
            if mode is not OpenMode.READ_WRITE:
                ro_uri = sqlite_uri(path, mode)

                def connect_read_only() -> Any:
                    import sqlite3

                    return sqlite3.connect(
                        ro_uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
                    )

                creator = {"creator": connect_read_only}
        self.read_only = mode is not OpenMode.READ_WRITE
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            json_deserializer=loads_stored,
            **creator,
            **({"poolclass": StaticPool} if in_memory else {"pool_size": 8, "max_overflow": 8}),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            # We issue BEGIN ourselves (see _on_begin); the driver must not.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                # A write waits this long; the store's own reads wait less (_on_begin).
                cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                record.info["busy_timeout"] = BUSY_TIMEOUT_MS
                cursor.execute("PRAGMA foreign_keys = ON")
                if (
                    not in_memory
                    and mode is OpenMode.READ_WRITE
                    and cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
                ):
                    # Switching takes the write lock; on a WAL file it is skipped, so
                    # opening a store never waits for another process's write lock.
                    cursor.execute("PRAGMA journal_mode = WAL")
                if not in_memory and mode is OpenMode.READ_WRITE:
                    # With WAL, NORMAL survives process crashes; only a power cut can
                    # lose the newest commits.
                    cursor.execute("PRAGMA synchronous = NORMAL")
                # 16 MB page cache per connection (default 2 MB): timeline indexes of
                # millions of rows stay hot.
                cursor.execute("PRAGMA cache_size = -16000")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            write = options.get("memtui_write", False)
            # The store's reads wait briefly for a lock, then say the store is locked.
            wanted = READ_BUSY_MS if options.get("memtui_read", False) else BUSY_TIMEOUT_MS
            info = conn.connection.info
            if info.get("busy_timeout") != wanted:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {wanted}")
                info["busy_timeout"] = wanted
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _check_sqlite_file(self, path: Path, mode: OpenMode) -> None:
        """Refuses a damaged SQLite file before anything else reads or writes it. The
        check reads through its own read-only connection (`mode=ro`, or the store's own
        read-only mode): it never writes, and meets damage before any PRAGMA does."""
        import sqlite3

        check_mode = OpenMode.READ_ONLY if mode is OpenMode.READ_WRITE else mode
        try:
            connection = sqlite3.connect(
                sqlite_uri(path, check_mode), uri=True, timeout=READ_BUSY_MS / 1000
            )
        except sqlite3.Error as exc:
            raise to_memtui_error(exc, self.description) from exc
        try:
            problem = check_damage(connection, path)
        except sqlite3.OperationalError as exc:  # locked or busy: check_damage says so
            raise BackendUnavailableError(
                f"the database {self.description} is locked by another process; try "
                "again in a moment",
                public="the store is busy (locked by another writer); try again in a moment",
            ) from exc
        finally:
            connection.close()
        if problem is not None:
            raise BackendUnavailableError(
                f"the store {self.description} is damaged: {problem}. memtui will not "
                "read or write it; restore a backup, or salvage it with "
                f"`sqlite3 {path} .recover`",
                public="the store is damaged (its database file is corrupt)",
            )

    def _stored_version(self, conn: Connection) -> int | None:
        """The store's schema version; None for a database memtui has not set up."""
        from sqlalchemy import inspect

        if not inspect(conn).has_table(meta_t.name):
            return None
        row = conn.execute(select(meta_t.c.value).where(meta_t.c.key == "schema_version")).first()
        return None if row is None else int(row[0])

    def _init_schema(self) -> None:
        """Sets up or upgrades the schema. A store already at this version is only
        read: opening it writes nothing, so it opens while another process holds the
        write lock, and on a read-only file."""
        found = self.read(lambda tx: self._stored_version(tx.conn))
        if found == SCHEMA_VERSION:
            return
        if found is not None and found > SCHEMA_VERSION:
            raise self._newer_schema(found)
        if self.read_only:
            what = (
                "has no memtui schema"
                if found is None
                else f"has schema version {found}, which this memtui (version "
                f"{SCHEMA_VERSION}) must upgrade"
            )
            raise BackendUnavailableError(
                f"the database {self.description} {what}, but it is read-only: open it "
                "once where memtui can write it"
            )

        def create(tx: Tx) -> None:
            conn = tx.conn
            if not self.is_sqlite:
                # Two processes opening a fresh database must not race on CREATE TABLE.
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGE_FEED_LOCK_KEY})
            from sqlmodel import SQLModel

            SQLModel.metadata.create_all(conn, tables=STORE_TABLES, checkfirst=True)
            row = conn.execute(
                select(meta_t.c.value).where(meta_t.c.key == "schema_version")
            ).first()
            if row is None:  # a new store: the tables were just made from tables.py
                if not self.is_sqlite:
                    from memtui.store.migrations import POSTGRES_SEQ_DEFAULT

                    conn.exec_driver_sql(POSTGRES_SEQ_DEFAULT)
                from memtui.store.search_index import create_search_index

                create_search_index(conn, self.dialect_name)
                conn.execute(
                    insert(meta_t),
                    [
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                        {"key": "created_at", "value": tx.now.isoformat()},
                    ],
                )
                return
            found = int(row[0])
            if found > SCHEMA_VERSION:
                raise self._newer_schema(found)
            if found < SCHEMA_VERSION:
                from memtui.store.migrations import migrate

                migrate(conn, found, SCHEMA_VERSION, dialect=self.dialect_name)
                conn.execute(
                    update(meta_t)
                    .where(meta_t.c.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )

        self.write(create, emit=False)

    def _newer_schema(self, found: int) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"the database {self.description} has schema version {found}, made by a "
            f"newer memtui (this one knows up to {SCHEMA_VERSION}); upgrade memtui"
        )

    def schema_version(self) -> int:
        return self.read(
            lambda tx: int(
                tx.conn.execute(
                    select(meta_t.c.value).where(meta_t.c.key == "schema_version")
                ).scalar_one()
            )
        )

    # --- transactions ------------------------------------------------------------------

    def run(
        self, fn: Callable[[Tx], T], *, write: bool, emit: bool = True, snapshot: bool = False
    ) -> T:
        """Runs `fn` in one transaction, retrying a locked database. `snapshot`: every
        statement of a read sees the same snapshot (SQLite's read transactions always do;
        PostgreSQL's default READ COMMITTED does not, so it runs at REPEATABLE READ,
        which psycopg asks for in its BEGIN: no extra round trip)."""
        if self.closed:
            raise BackendUnavailableError(f"the store {self.description} is closed")
        if write and self.read_only:
            raise BackendUnavailableError(
                f"the database {self.description} is read-only (memtui cannot write the "
                "file or its directory), so it was opened for reading only; this needs "
                "to write",
                public="the store is read-only; it cannot take writes",
            )
        delay = 0.01
        patience = LOCK_RETRY_SECONDS if write else READ_RETRY_SECONDS
        deadline = _time.monotonic() + patience
        while True:
            try:
                with self.engine.connect() as conn:
                    if self.is_sqlite:
                        conn = conn.execution_options(
                            **({"memtui_write": True} if write else {"memtui_read": True})
                        )
                    elif snapshot and not self.is_sqlite:
                        conn = conn.execution_options(isolation_level="REPEATABLE READ")
                    with conn.begin():
                        tx = Tx(conn, self._now())
                        result = fn(tx)
                        if write and emit and tx.changes:
                            self._append_changes(tx)
                    if write and emit and tx.changes:
                        self._changes_committed()
                    return result
            except Retry:
                pass
            except MemtuiError:
                raise
            except (SQLAlchemyError, SQLiteError) as exc:
                # sqlite3's own errors: from the PRAGMAs of a new connection (_on_connect)
                if not (is_retryable(exc) and _time.monotonic() < deadline):
                    raise to_memtui_error(exc, self.description) from exc
            # Back off with jitter so competing writers do not retry in lockstep.
            _time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)
            if _time.monotonic() >= deadline:
                raise BackendUnavailableError(
                    f"the database {self.description} is locked by another process "
                    f"(still after {patience:.0f} s); try again in a moment",
                    public="the store is busy (locked by another writer); try again in a moment",
                )

    def read(self, fn: Callable[[Tx], T]) -> T:
        return self.run(fn, write=False)

    def write(self, fn: Callable[[Tx], T], *, emit: bool = True) -> T:
        return self.run(fn, write=True, emit=emit)

    def _append_changes(self, tx: Tx) -> None:
        if not self.is_sqlite:
            # Held until commit: ids are handed out and committed in the same order.
            tx.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGE_FEED_LOCK_KEY})
        tx.conn.execute(insert(change_t), tx.changes)
        if not self.is_sqlite:
            # Delivered at commit to every LISTENer (servers' event streams), from any
            # process; the payload says which store object wrote, so a server can skip
            # its own writes (its change listeners heard of them already).
            tx.conn.execute(
                text("SELECT pg_notify(:channel, :origin)"),
                {"channel": CHANGE_CHANNEL, "origin": self.change_origin},
            )

    # Called after each commit that appended changes (from the writing thread).
    _change_listeners: tuple[Callable[[], None], ...] = ()

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after every commit of this store object that appended to
        the change feed. It must be quick and must not raise."""
        self._change_listeners = (*self._change_listeners, listener)

    def _changes_committed(self) -> None:
        for listener in self._change_listeners:
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener must never fail a write
                log.exception("change listener failed")

    def insert_ignore(self, table: Any) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING 1: `.first()` is None when the row
        existed (rowcount is not reliable for this on every driver)."""
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(table).on_conflict_do_nothing().returning(literal(1))
