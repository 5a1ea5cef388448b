"""SqlStore: the Backend protocol on any SQLAlchemy URL (SQLite or PostgreSQL).

Design notes
- Reads and writes go through SQLAlchemy Core on the SQLModel tables and build the
  domain dataclasses directly: no ORM identity map, no per-row object overhead.
- Every public write is one short transaction (`_write`). Its change-feed rows are
  inserted in that same transaction, so the feed holds exactly the committed writes.
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
import time as _time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from sqlite3 import Error as SQLiteError
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import NullType

from memtui.backend.base import BackendBase
from memtui.config import PRIVATE_FILE_MODE, default_db_path, default_db_url, make_private_dir
from memtui.domain import validation as check
from memtui.domain.briefing import RECENT_ACTIVITY_LIMIT, assemble_briefing
from memtui.domain.clock import Clock, ensure_utc, utc_now
from memtui.domain.commit import content_hash, plan_commit
from memtui.domain.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MemtuiError,
    NotFoundError,
    VersionConflictError,
)
from memtui.domain.expiry import extended_expiry
from memtui.domain.models import (
    ALL_CAPABILITIES,
    DEFAULT_EXTEND,
    DEFAULT_ORG,
    DEFAULT_SESSION_TTL,
    DEFAULT_WORKING_MEMORY_IMPORTANCE,
    MEMTRACE_MEMORY_TYPES,
    Agent,
    AgentStats,
    Briefing,
    Change,
    ChangeKind,
    CommitResult,
    ContextRequest,
    ContextResult,
    Memory,
    MemoryCursor,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    Order,
    Session,
    SessionStatus,
    Snapshot,
    WorkingMemoryItem,
    new_agent_id,
    new_memory_id,
    new_session_id,
    new_snapshot_id,
)
from memtui.domain.safe_json import loads_stored
from memtui.store.errors import is_retryable, to_memtui_error
from memtui.store.sqlite_file import (
    OpenMode,
    ReadOnlyWalError,
    check_damage,
    open_mode,
)
from memtui.store.sqlite_file import uri as sqlite_uri
from memtui.store.tables import (
    MEMORY_PRIORITY,
    SCHEMA_VERSION,
    STORE_TABLES,
    AgentTable,
    ChangeTable,
    MemoryTable,
    MemoryTagTable,
    SchemaMetaTable,
    SessionTable,
    SnapshotTable,
    UTCDateTime,
    WorkingMemoryTable,
)

if TYPE_CHECKING:
    # the engine imports tiktoken: the store imports it in build_context
    from memtui.domain.context import ContextWindow
    from memtui.store.api_keys import SqlKeyStore
    from memtui.store.expiry_events import ExpiryWatcher

T = TypeVar("T")

agent_t = AgentTable.__table__
session_t = SessionTable.__table__
memory_t = MemoryTable.__table__
tag_t = MemoryTagTable.__table__
wm_t = WorkingMemoryTable.__table__
snapshot_t = SnapshotTable.__table__
change_t = ChangeTable.__table__
meta_t = SchemaMetaTable.__table__

# Column order = the Memory dataclass's field order, so rows become Memory(*row).
MEMORY_COLUMNS = (
    memory_t.c.id,
    memory_t.c.time,
    memory_t.c.agent_id,
    memory_t.c.content,
    memory_t.c.memory_type,
    memory_t.c.event_type,
    memory_t.c.session_id,
    memory_t.c.tags,
    memory_t.c.importance,
    memory_t.c.metadata,
    memory_t.c.parent_id,
    memory_t.c.dedup_key,
    memory_t.c.org_id,
)
SESSION_COLUMNS = (
    session_t.c.id,
    session_t.c.agent_id,
    session_t.c.status,
    session_t.c.created_at,
    session_t.c.updated_at,
    session_t.c.expires_at,
    session_t.c.closed_at,
    session_t.c.workspace_id,
    session_t.c.metadata,
    session_t.c.org_id,
)
SNAPSHOT_COLUMNS = (
    snapshot_t.c.id,
    snapshot_t.c.session_id,
    snapshot_t.c.agent_id,
    snapshot_t.c.event,
    snapshot_t.c.created_at,
    snapshot_t.c.project_path,
    snapshot_t.c.files_modified,
    snapshot_t.c.key_decisions,
    snapshot_t.c.open_tasks,
)
AGENT_COLUMNS = (
    agent_t.c.id,
    agent_t.c.name,
    agent_t.c.created_at,
    agent_t.c.description,
    agent_t.c.config,
    agent_t.c.org_id,
)
WM_COLUMNS = (
    wm_t.c.session_id,
    wm_t.c.key,
    wm_t.c.value,
    wm_t.c.importance,
    wm_t.c.version,
    wm_t.c.updated_at,
)

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
MAX_PAGE = 10_000
MAX_VERSION = 2**62  # versions and change ids are 64-bit in the store


def _memory(row: Sequence[Any]) -> Memory:
    return Memory(*row)


def _session(row: Sequence[Any]) -> Session:
    return Session(*row)


def _snapshot(row: Sequence[Any]) -> Snapshot:
    return Snapshot(*row)


def _agent(row: Sequence[Any]) -> Agent:
    return Agent(*row)


def _wm_item(row: Sequence[Any]) -> WorkingMemoryItem:
    return WorkingMemoryItem(*row)


class _ContextRow(NamedTuple):
    """What the context engine reads of a memory (memtui.domain.context.ContextMemory).
    `time` is (the time as the driver returns it, seq): the engine only sorts by time,
    so memories of one time (a batch) sort in insertion order. The driver's time is
    SQLite's fixed-width UTC text (it sorts chronologically) or PostgreSQL's datetime."""

    id: str
    time: tuple[Any, int]
    content: str
    memory_type: str
    event_type: str
    importance: float | None
    seq: int  # insertion order


def _context_row(row: Sequence[Any]) -> _ContextRow:
    """A row of CONTEXT_COLUMNS (and anything after them) as the engine reads it."""
    memory_id, time, content, memory_type, event_type, importance, seq = row[:7]
    return _ContextRow(memory_id, (time, seq), content, memory_type, event_type, importance, seq)


_RAW_TIME = type_coerce(memory_t.c.time, NullType())  # as stored: no per-row conversion
CONTEXT_COLUMNS = (
    memory_t.c.id,
    _RAW_TIME,
    memory_t.c.content,
    memory_t.c.memory_type,
    memory_t.c.event_type,
    memory_t.c.importance,
    memory_t.c.seq,
)
# The engine's priority order: ix_memory_session_priority read backwards.
PRIORITY_ORDER = (MEMORY_PRIORITY.desc(), memory_t.c.time.desc(), memory_t.c.seq.desc())
priority_key = tuple_(MEMORY_PRIORITY, _RAW_TIME, memory_t.c.seq)


def _cursor_seq(memory_id: str, *, descending: bool) -> Any:
    """The insertion order of a cursor's memory: cursors name (time, id), and pages
    are ordered by (time, seq). If that memory was deleted meanwhile, every memory of
    its time counts as after it: a row is shown twice rather than never."""
    seq = select(memory_t.c.seq).where(memory_t.c.id == literal(memory_id)).scalar_subquery()
    return func.coalesce(seq, literal(MAX_VERSION if descending else -1))


class _PriorityStatements(NamedTuple):
    first: Any  # the rows with the window's total and whether the session exists
    first_page: Any  # the same, LIMIT :limit
    next_page: Any  # the rows after (:after_priority, :after_time, :after_seq), LIMIT :limit


@lru_cache(maxsize=16)
def _priority_statements(
    types: bool, excluded: bool, since: bool, until: bool
) -> _PriorityStatements:
    """The priority read's statements for one shape of window (which filters it has),
    with every value a bound parameter: built once, so SQLAlchemy finds their compiled
    form without rebuilding them (a statement built per call costs ~0.1 ms of
    cache-key work, a twentieth of a whole build). The filters are _memory_filters'."""
    filters: list[Any] = [memory_t.c.session_id == bindparam("session_id")]
    if types:
        filters.append(memory_t.c.memory_type.in_(bindparam("types", expanding=True)))
    if excluded:
        filters.append(memory_t.c.memory_type.not_in(bindparam("excluded", expanding=True)))
    if since:
        filters.append(memory_t.c.time >= bindparam("since", type_=UTCDateTime()))
    if until:
        filters.append(memory_t.c.time <= bindparam("until", type_=UTCDateTime()))
    total = select(func.count()).select_from(memory_t).where(*filters).scalar_subquery()
    found = (
        select(session_t.c.id).where(session_t.c.id == bindparam("session_id")).scalar_subquery()
    )
    first = select(*CONTEXT_COLUMNS, total, found).where(*filters).order_by(*PRIORITY_ORDER)
    position = tuple_(
        bindparam("after_priority", type_=Float()),
        bindparam("after_time", type_=NullType()),  # as the row gave it
        bindparam("after_seq", type_=Integer()),
    )
    limit = bindparam("limit", type_=Integer())
    next_page = (
        select(*CONTEXT_COLUMNS)
        .where(*filters, priority_key < position)
        .order_by(*PRIORITY_ORDER)
        .limit(limit)
    )
    return _PriorityStatements(first, first.limit(limit), next_page)


class _PriorityRows(Sequence[_ContextRow]):
    """A window's memories in the engine's priority order (`ORDER BY priority DESC,
    time DESC, seq DESC`: ix_memory_session_priority read backwards, no sort), read only
    as far as the engine asks.

    The first statement also carries the window's total and whether the session
    exists (scalar subqueries, evaluated once), so neither costs a statement of its
    own. SQLite: that one statement, its rows stepped on demand (fetchmany; nothing
    crosses a socket). PostgreSQL: LIMIT-ed keyset pages that double in size, one round
    trip each (a server-side cursor would cost DECLARE, FETCHes and CLOSE). Used inside
    one read transaction (SQLite's is a snapshot; PostgreSQL's runs at REPEATABLE READ):
    every page continues the snapshot the total was counted in.

    Page sizes follow the budget: a row read and not used costs about as much as the
    engine's work on it (PostgreSQL ~8 us, SQLite ~2 us: the table row with its content),
    so pages aim at the rows the budget can hold (at the token size of the rows read so
    far) rather than doubling from the start."""

    MAX_PAGE = 2048
    MIN_PAGE = 32  # below this, a round trip costs more than the rows it saves
    FIRST_PAGE_TOKENS_PER_ROW = 36  # a guess for the first page (a sentence or two)
    CHARS_PER_TOKEN = 4.0  # English text in cl100k_base/o200k_base, roughly

    def __init__(
        self,
        conn: Connection,
        window: ContextWindow,
        *,
        session_id: str,
        max_tokens: int,
        stream: bool,
    ) -> None:
        self._conn = conn
        self._max_tokens = max_tokens
        self._statements = _priority_statements(
            bool(window.include_types),
            bool(window.exclude_types),
            window.since is not None,
            window.until is not None,
        )
        params: dict[str, Any] = {"session_id": session_id}
        if window.include_types:
            params["types"] = list(window.include_types)
        if window.exclude_types:
            params["excluded"] = list(window.exclude_types)
        if window.since is not None:
            params["since"] = window.since
        if window.until is not None:
            params["until"] = window.until
        self._params = params
        first_page = self._clamp(max_tokens // self.FIRST_PAGE_TOKENS_PER_ROW + 8)
        if stream:
            self._stream: Any = conn.execute(self._statements.first, params)
            rows = self._stream.fetchmany(first_page)
        else:
            self._stream = None
            first = self._statements.first_page
            rows = conn.execute(first, {**params, "limit": first_page}).all()
        self.total = int(rows[0][-2]) if rows else 0
        # None: no row came back to say (the caller asks separately)
        self.session_found: bool | None = rows[0][-1] is not None if rows else None
        self._loaded = list(map(_context_row, rows))
        self._chars = sum(len(row.content) for row in self._loaded)
        self._last_continuation = 0
        self._exhausted = len(rows) < first_page

    def _clamp(self, size: float) -> int:
        return max(self.MIN_PAGE, min(int(size), self.MAX_PAGE))

    def _next_page_size(self) -> int:
        """The rows the budget still seems to need; once that guess fell short (the
        engine also reads rows that do not fit), at least twice the previous page."""
        loaded = len(self._loaded)
        tokens_per_row = max(2.0, (self._chars / loaded + 3) / self.CHARS_PER_TOKEN)
        rows_for_budget = self._max_tokens / tokens_per_row * 1.15 + 8
        return self._clamp(max(rows_for_budget - loaded, 2 * self._last_continuation))

    def _load_through(self, index: int) -> None:
        while not self._exhausted and len(self._loaded) <= index:
            self._load_page()

    def _load_page(self) -> None:
        size = self._last_continuation = self._next_page_size()
        if self._stream is not None:
            rows = self._stream.fetchmany(size)
        else:
            last = self._loaded[-1]
            after = {
                "after_priority": importance_of_row(last),
                "after_time": last.time[0],  # as the row gave it
                "after_seq": last.seq,
                "limit": size,
            }
            rows = self._conn.execute(self._statements.next_page, {**self._params, **after}).all()
        new_rows = list(map(_context_row, rows))
        self._loaded += new_rows
        self._chars += sum(len(row.content) for row in new_rows)
        if len(rows) < size:
            self._exhausted = True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            self._load_through(len(self))
            return self._loaded[index]
        if index < 0:
            index += len(self)
        self._load_through(index)
        return self._loaded[index]

    def __iter__(self) -> Any:
        position = 0
        loaded = self._loaded
        while True:
            if position >= len(loaded):
                self._load_through(position)
                if position >= len(loaded):
                    return
            yield loaded[position]
            position += 1


def importance_of_row(row: _ContextRow) -> float:
    """The row's place in MEMORY_PRIORITY (a memory without importance counts as 0.5)."""
    return 0.5 if row.importance is None else row.importance


class _KnownTypes(Collection[str]):
    """The memory types a context request may name, read from the store only when a
    request names a type that is not built in (most name none)."""

    def __init__(self, conn: Connection, read: Callable[[Connection], set[str]]) -> None:
        self._conn = conn
        self._read = read
        self._types: set[str] | None = None

    def _all(self) -> set[str]:
        if self._types is None:
            self._types = set(MEMTRACE_MEMORY_TYPES) | self._read(self._conn)
        return self._types

    def __contains__(self, value: object) -> bool:
        return value in MEMTRACE_MEMORY_TYPES or value in self._all()

    def __iter__(self) -> Any:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _Retry(Exception):
    """Raised inside a transaction to run it again (lost a benign race)."""


class _Tx:
    """One transaction: the connection plus the change rows it will append."""

    __slots__ = ("conn", "now", "changes", "_agents")

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.changes: list[dict[str, Any]] = []
        self._agents: dict[str, Agent] = {}

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


class SqlStore(BackendBase):
    """The SQLModel store. Thread-safe: share one instance between threads."""

    _sqlite_path: Path | None = None  # a SQLite file store's file
    read_only = False  # a SQLite file memtui may not write (see memtui.store.sqlite_file)

    def __init__(self, url: str | None = None, *, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)
        self.url_text = url or default_db_url()
        self._url = self._parse_url(self.url_text)
        self.dialect_name = self._url.get_backend_name()
        self._description = self._url.render_as_string(hide_password=True)
        self.engine: Engine = self._create_engine(self._url)
        try:
            self._init_schema()
        except BaseException:
            self.engine.dispose()
            raise

    # --- setup -------------------------------------------------------------------------

    @staticmethod
    def _parse_url(url_text: str) -> URL:
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
            self._sqlite_path = path
            try:
                mode = open_mode(path)
            except ReadOnlyWalError as exc:
                raise BackendUnavailableError(
                    f"cannot open the database {self._description}: {exc}"
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
            raise to_memtui_error(exc, self._description) from exc
        try:
            problem = check_damage(connection, path)
        except sqlite3.OperationalError as exc:  # locked or busy: check_damage says so
            raise BackendUnavailableError(
                f"the database {self._description} is locked by another process; try "
                "again in a moment",
                public="the store is busy (locked by another writer); try again in a moment",
            ) from exc
        finally:
            connection.close()
        if problem is not None:
            raise BackendUnavailableError(
                f"the store {self._description} is damaged: {problem}. memtui will not "
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
        found = self._read(lambda tx: self._stored_version(tx.conn))
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
                f"the database {self._description} {what}, but it is read-only: open it "
                "once where memtui can write it"
            )

        def create(tx: _Tx) -> None:
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

        self._write(create, emit=False)

    def _newer_schema(self, found: int) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"the database {self._description} has schema version {found}, made by a "
            f"newer memtui (this one knows up to {SCHEMA_VERSION}); upgrade memtui"
        )

    def schema_version(self) -> int:
        return self._read(
            lambda tx: int(
                tx.conn.execute(
                    select(meta_t.c.value).where(meta_t.c.key == "schema_version")
                ).scalar_one()
            )
        )

    # --- transactions ------------------------------------------------------------------

    def _run(
        self, fn: Callable[[_Tx], T], *, write: bool, emit: bool = True, snapshot: bool = False
    ) -> T:
        """Runs `fn` in one transaction, retrying a locked database. `snapshot`: every
        statement of a read sees the same snapshot (SQLite's read transactions always do;
        PostgreSQL's default READ COMMITTED does not, so it runs at REPEATABLE READ,
        which psycopg asks for in its BEGIN: no extra round trip)."""
        if self._closed:
            raise BackendUnavailableError(f"the store {self._description} is closed")
        if write and self.read_only:
            raise BackendUnavailableError(
                f"the database {self._description} is read-only (memtui cannot write the "
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
                        tx = _Tx(conn, self.now())
                        result = fn(tx)
                        if write and emit and tx.changes:
                            self._append_changes(tx)
                    if write and emit and tx.changes:
                        self._changes_committed()
                    return result
            except _Retry:
                pass
            except MemtuiError:
                raise
            except (SQLAlchemyError, SQLiteError) as exc:
                # sqlite3's own errors: from the PRAGMAs of a new connection (_on_connect)
                if not (is_retryable(exc) and _time.monotonic() < deadline):
                    raise to_memtui_error(exc, self._description) from exc
            # Back off with jitter so competing writers do not retry in lockstep.
            _time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)
            if _time.monotonic() >= deadline:
                raise BackendUnavailableError(
                    f"the database {self._description} is locked by another process "
                    f"(still after {patience:.0f} s); try again in a moment",
                    public="the store is busy (locked by another writer); try again in a moment",
                )

    def _read(self, fn: Callable[[_Tx], T]) -> T:
        return self._run(fn, write=False)

    def _write(self, fn: Callable[[_Tx], T], *, emit: bool = True) -> T:
        return self._run(fn, write=True, emit=emit)

    def _append_changes(self, tx: _Tx) -> None:
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

    @property
    def change_origin(self) -> str:
        """A random name for this store object, the payload of its change notifications."""
        origin = self.__dict__.get("_change_origin")
        if origin is None:
            import secrets

            origin = self.__dict__.setdefault("_change_origin", secrets.token_hex(8))
        return str(origin)

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

    # --- about -------------------------------------------------------------------------

    def describe(self) -> str:
        return f"{self._description} (read-only)" if self.read_only else self._description

    def capabilities(self) -> frozenset[str]:
        return ALL_CAPABILITIES

    def _release(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._description!r})"

    # --- what `memtui serve` needs beyond the Backend (memtui.backend.services) --------

    def key_store(self) -> SqlKeyStore:
        """The API keys in this store's `api_key` table; closing it leaves us open."""
        from memtui.store.api_keys import SqlKeyStore

        return SqlKeyStore(self.engine, clock=self._clock)

    def expiry_watcher(self) -> ExpiryWatcher:
        """Reports `session.expired` changes while started."""
        from memtui.store.expiry_events import ExpiryWatcher

        return ExpiryWatcher(self)

    # --- agents ------------------------------------------------------------------------

    def _find_agent(self, conn: Connection, id_or_name: str) -> Agent | None:
        row = conn.execute(select(*AGENT_COLUMNS).where(agent_t.c.id == id_or_name)).first()
        if row is None:
            row = conn.execute(select(*AGENT_COLUMNS).where(agent_t.c.name == id_or_name)).first()
        return None if row is None else _agent(row)

    def _resolve_agent_id(self, conn: Connection, id_or_name: str) -> str:
        """Queries accept an agent's id or name; unknown values match nothing."""
        agent = self._find_agent(conn, id_or_name)
        return agent.id if agent else id_or_name

    def _ensure_agent(self, tx: _Tx, id_or_name: str) -> Agent:
        cached = tx._agents.get(id_or_name)
        if cached is not None:
            return cached
        check.check_text("agent_id", id_or_name, max_length=check.MAX_ID_LENGTH)
        agent = self._find_agent(tx.conn, id_or_name)
        if agent is None:
            agent = Agent(id=id_or_name, name=id_or_name, created_at=tx.now)
            inserted = tx.conn.execute(
                self._insert_ignore(agent_t).values(
                    id=agent.id,
                    name=agent.name,
                    description="",
                    config={},
                    org_id=DEFAULT_ORG,
                    created_at=agent.created_at,
                )
            ).first()
            if not inserted:
                raise _Retry  # another writer registered it a moment ago
            tx.emit(ChangeKind.AGENT_CREATED, agent.id, agent_id=agent.id, data=agent.to_json())
        tx._agents[id_or_name] = agent
        return agent

    def _insert_ignore(self, table: Any) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING 1: `.first()` is None when the row
        existed (rowcount is not reliable for this on every driver)."""
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(table).on_conflict_do_nothing().returning(literal(1))

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        check.check_text("name", name, max_length=check.MAX_ID_LENGTH)
        description = check.check_optional_text("description", description) or ""
        config = check.check_object("config", config)

        def op(tx: _Tx) -> Agent:
            if self._find_agent(tx.conn, name) is not None:
                raise ConflictError(f"an agent named {name!r} already exists")
            agent = Agent(
                id=new_agent_id(),
                name=name,
                created_at=tx.now,
                description=description,
                config=config,
            )
            inserted = tx.conn.execute(
                self._insert_ignore(agent_t).values(
                    id=agent.id,
                    name=name,
                    description=description,
                    config=config,
                    org_id=DEFAULT_ORG,
                    created_at=tx.now,
                )
            ).first()
            if not inserted:
                raise ConflictError(f"an agent named {name!r} already exists")
            tx.emit(ChangeKind.AGENT_CREATED, agent.id, agent_id=agent.id, data=agent.to_json())
            return agent

        return self._write(op)

    def ensure_agent(self, id_or_name: str) -> Agent:
        return self._write(lambda tx: self._ensure_agent(tx, id_or_name))

    def list_agents(self) -> list[Agent]:
        return self._read(
            lambda tx: [
                _agent(r) for r in tx.conn.execute(select(*AGENT_COLUMNS).order_by(agent_t.c.name))
            ]
        )

    def get_agent(self, id_or_name: str) -> Agent:
        agent = self._read(lambda tx: self._find_agent(tx.conn, id_or_name))
        if agent is None:
            raise NotFoundError(f"agent {id_or_name!r} not found")
        return agent

    def delete_agent(self, agent_id: str) -> None:
        """Removes the agent's registration and its sessions (with their working memory
        and snapshots). Its memories stay: memories outlive sessions and agents."""

        def op(tx: _Tx) -> None:
            agent = self._find_agent(tx.conn, agent_id)
            if agent is None:
                raise NotFoundError(f"agent {agent_id!r} not found")
            session_ids = list(
                tx.conn.execute(
                    select(session_t.c.id).where(session_t.c.agent_id == agent.id)
                ).scalars()
            )
            for session_id in session_ids:
                self._delete_session_rows(tx, session_id, agent.id)
            tx.conn.execute(delete(agent_t).where(agent_t.c.id == agent.id))
            tx.emit(ChangeKind.AGENT_DELETED, agent.id, agent_id=agent.id, data=agent.to_json())

        self._write(op)

    def agent_stats(self, agent_id: str) -> AgentStats:
        def op(tx: _Tx) -> AgentStats:
            agent = self._find_agent(tx.conn, agent_id)
            if agent is None:
                raise NotFoundError(f"agent {agent_id!r} not found")
            conn, now = tx.conn, tx.now
            day_ago = literal(now - timedelta(hours=24), UTCDateTime())
            of_agent = memory_t.c.agent_id == agent.id
            memory_count, last_active = conn.execute(
                select(func.count(), func.max(memory_t.c.time)).where(of_agent)
            ).one()
            memories_24h = conn.execute(
                select(func.count()).where(of_agent, memory_t.c.time >= day_ago)
            ).scalar_one()
            errors_24h = conn.execute(
                select(func.count()).where(
                    of_agent, memory_t.c.time >= day_ago, memory_t.c.event_type == "error"
                )
            ).scalar_one()
            types = dict(
                conn.execute(
                    select(memory_t.c.memory_type, func.count())
                    .where(of_agent)
                    .group_by(memory_t.c.memory_type)
                ).all()
            )
            session_count = conn.execute(
                select(func.count()).where(session_t.c.agent_id == agent.id)
            ).scalar_one()
            active = conn.execute(
                select(func.count()).where(
                    session_t.c.agent_id == agent.id, self._status_clause("active", now)
                )
            ).scalar_one()
            return AgentStats(
                agent_id=agent.id,
                memory_count=int(memory_count),
                memories_24h=int(memories_24h),
                errors_24h=int(errors_24h),
                session_count=int(session_count),
                active_sessions=int(active),
                last_active_at=_parse_sql_time(last_active),
                memory_types={str(k): int(v) for k, v in types.items()},
            )

        return self._read(op)

    # --- sessions ----------------------------------------------------------------------

    @staticmethod
    def _status_clause(status: str, now: datetime) -> Any:
        at = literal(now, UTCDateTime())
        if status == SessionStatus.ACTIVE:
            return and_(
                session_t.c.status == "active",
                or_(session_t.c.expires_at.is_(None), session_t.c.expires_at > at),
            )
        if status == SessionStatus.EXPIRED:
            return and_(session_t.c.status == "active", session_t.c.expires_at <= at)
        if status == SessionStatus.CLOSED:
            return session_t.c.status == "closed"
        raise InvalidInputError(
            f"session status {status!r} is not one of active, closed, expired",
            field="status",
            value=status,
        )

    def _get_session(self, conn: Connection, session_id: str) -> Session:
        row = conn.execute(select(*SESSION_COLUMNS).where(session_t.c.id == session_id)).first()
        if row is None:
            raise NotFoundError(f"session {session_id!r} not found")
        return _session(row)

    def _insert_session(self, tx: _Tx, session: Session) -> Session:
        inserted = tx.conn.execute(
            self._insert_ignore(session_t).values(
                id=session.id,
                agent_id=session.agent_id,
                status=session.status,
                created_at=session.created_at,
                updated_at=session.updated_at,
                expires_at=session.expires_at,
                closed_at=session.closed_at,
                workspace_id=session.workspace_id,
                metadata=session.metadata,
                org_id=session.org_id,
            )
        ).first()
        if not inserted:
            raise ConflictError(f"session {session.id!r} already exists")
        tx.emit(
            ChangeKind.SESSION_CREATED,
            session.id,
            agent_id=session.agent_id,
            session_id=session.id,
            data=session.to_json(tx.now),
        )
        return session

    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session:
        metadata = check.check_object("metadata", metadata)
        if ttl is not None:
            check.check_positive_duration("ttl", ttl)
            if ttl > timedelta(days=365 * 100):
                raise InvalidInputError(
                    f"ttl must be at most 100 years, got {ttl}", field="ttl", value=str(ttl)
                )
        if session_id is not None:
            check.check_id("session_id", session_id)
        if workspace_id is not None:
            check.check_text("workspace_id", workspace_id, max_length=check.MAX_ID_LENGTH)

        def op(tx: _Tx) -> Session:
            agent = self._ensure_agent(tx, agent_id)
            session = Session(
                id=session_id or new_session_id(),
                agent_id=agent.id,
                status=SessionStatus.ACTIVE.value,
                created_at=tx.now,
                updated_at=tx.now,
                expires_at=None if ttl is None else tx.now + ttl,
                workspace_id=workspace_id,
                metadata=metadata,
            )
            return self._insert_session(tx, session)

        return self._write(op)

    def import_session(self, session: Session) -> Session:
        """Store a session exactly as given (timestamps included), for imports and the
        demo. ConflictError if its id exists. Not part of the Backend protocol."""
        check.check_text("session_id", session.id, max_length=check.MAX_ID_LENGTH)
        if session.status not in (SessionStatus.ACTIVE, SessionStatus.CLOSED):
            raise InvalidInputError(
                f"session status {session.status!r} is not active or closed",
                field="status",
                value=session.status,
            )

        def op(tx: _Tx) -> Session:
            agent = self._ensure_agent(tx, session.agent_id)
            return self._insert_session(
                tx,
                Session(
                    id=session.id,
                    agent_id=agent.id,
                    status=session.status,
                    created_at=ensure_utc(session.created_at),
                    updated_at=ensure_utc(session.updated_at),
                    expires_at=session.expires_at and ensure_utc(session.expires_at),
                    closed_at=session.closed_at and ensure_utc(session.closed_at),
                    workspace_id=session.workspace_id,
                    metadata=check.check_object("metadata", session.metadata),
                    org_id=session.org_id,
                ),
            )

        return self._write(op)

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidInputError(
                f"limit must be a positive integer, got {limit!r}", field="limit"
            )

        def op(tx: _Tx) -> list[Session]:
            stmt = select(*SESSION_COLUMNS)
            if agent_id is not None:
                stmt = stmt.where(session_t.c.agent_id == self._resolve_agent_id(tx.conn, agent_id))
            if status is not None:
                stmt = stmt.where(self._status_clause(status, tx.now))
            stmt = stmt.order_by(session_t.c.created_at.desc(), session_t.c.id.desc())
            if limit is not None:
                stmt = stmt.limit(limit)
            return [_session(r) for r in tx.conn.execute(stmt)]

        return self._read(op)

    def get_session(self, session_id: str) -> Session:
        return self._read(lambda tx: self._get_session(tx.conn, session_id))

    def _update_session_row(self, tx: _Tx, session: Session, **values: Any) -> Session:
        values["updated_at"] = tx.now
        tx.conn.execute(update(session_t).where(session_t.c.id == session.id).values(**values))
        updated = self._get_session(tx.conn, session.id)
        tx.emit(
            ChangeKind.SESSION_UPDATED,
            session.id,
            agent_id=session.agent_id,
            session_id=session.id,
            data=updated.to_json(tx.now),
        )
        return updated

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        if status is not None and status not in (SessionStatus.ACTIVE, SessionStatus.CLOSED):
            raise InvalidInputError(
                f"session status {status!r} cannot be set: use active or closed",
                field="status",
                value=status,
            )
        if metadata is not None:
            metadata = check.check_object("metadata", metadata)

        def op(tx: _Tx) -> Session:
            session = self._get_session(tx.conn, session_id)
            values: dict[str, Any] = {}
            if metadata is not None:
                values["metadata"] = metadata
            if status == SessionStatus.CLOSED and session.status != SessionStatus.CLOSED:
                values.update(status="closed", closed_at=tx.now)
            elif status == SessionStatus.ACTIVE and session.status != SessionStatus.ACTIVE:
                values.update(status="active", closed_at=None)
            if not values:
                return session
            return self._update_session_row(tx, session, **values)

        return self._write(op)

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        check.check_positive_duration("by", by)

        def op(tx: _Tx) -> Session:
            session = self._get_session(tx.conn, session_id)
            if session.status == SessionStatus.CLOSED:
                raise ConflictError(f"session {session_id!r} is closed; reopen it to extend it")
            return self._update_session_row(
                tx, session, expires_at=extended_expiry(session.expires_at, by, tx.now)
            )

        return self._write(op)

    def _delete_session_rows(self, tx: _Tx, session_id: str, agent_id: str) -> None:
        tx.conn.execute(delete(wm_t).where(wm_t.c.session_id == session_id))
        tx.conn.execute(delete(snapshot_t).where(snapshot_t.c.session_id == session_id))
        tx.conn.execute(delete(session_t).where(session_t.c.id == session_id))
        tx.emit(
            ChangeKind.SESSION_DELETED,
            session_id,
            agent_id=agent_id,
            session_id=session_id,
            data={"session_id": session_id, "id": session_id},
        )

    def delete_session(self, session_id: str) -> None:
        def op(tx: _Tx) -> None:
            session = self._get_session(tx.conn, session_id)
            self._delete_session_rows(tx, session_id, session.agent_id)

        self._write(op)

    # --- memories ----------------------------------------------------------------------

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        """All or nothing. A memory whose `dedup_key` already exists for its agent is not
        stored again: the stored one is returned in its place."""
        memories = list(memories)
        for index, new in enumerate(memories):
            if not isinstance(new, NewMemory):
                raise InvalidInputError(
                    f"memory #{index + 1} is not a NewMemory", field="memories", value=new
                )
            check.check_new_memory(new, index if len(memories) > 1 else None)
        if not memories:
            return []
        return self._write(lambda tx: self._add_memories(tx, memories))

    def _add_memories(self, tx: _Tx, memories: list[NewMemory]) -> list[Memory]:
        conn = tx.conn
        result: list[Memory | None] = [None] * len(memories)
        existing_by_dedup: dict[tuple[str, str], Memory] = {}
        dedup_wanted = {
            (self._ensure_agent(tx, m.agent_id).id, m.dedup_key) for m in memories if m.dedup_key
        }
        for agent_id, dedup_key in dedup_wanted:
            row = conn.execute(
                select(*MEMORY_COLUMNS)
                .where(memory_t.c.agent_id == agent_id, memory_t.c.dedup_key == dedup_key)
                .limit(1)
            ).first()
            if row is not None:
                existing_by_dedup[(agent_id, dedup_key)] = _memory(row)

        rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        for index, new in enumerate(memories):
            agent = self._ensure_agent(tx, new.agent_id)
            if new.dedup_key and (agent.id, new.dedup_key) in existing_by_dedup:
                result[index] = existing_by_dedup[(agent.id, new.dedup_key)]
                continue
            memory = Memory(
                id=new.id or new_memory_id(),
                time=ensure_utc(new.time) if new.time else tx.now,
                agent_id=agent.id,
                content=new.content,
                memory_type=new.memory_type,
                event_type=new.event_type,
                session_id=new.session_id,
                tags=check.check_tags(new.tags),
                importance=None if new.importance is None else float(new.importance),
                metadata=dict(new.metadata or {}),
                parent_id=new.parent_id,
                dedup_key=new.dedup_key,
            )
            if new.dedup_key:
                existing_by_dedup[(agent.id, new.dedup_key)] = memory  # dedup within the batch
            result[index] = memory
            rows.append(self._memory_row(memory))
            tag_rows.extend({"tag": tag, "memory_id": memory.id} for tag in memory.tags)
            tx.emit(
                ChangeKind.MEMORY_CREATED,
                memory.id,
                agent_id=memory.agent_id,
                session_id=memory.session_id,
                data=memory.to_json(),
            )
        if rows:
            ids = [r["id"] for r in rows]
            if len(set(ids)) != len(ids):
                raise ConflictError("the batch holds the same memory id twice")
            taken = conn.execute(select(memory_t.c.id).where(memory_t.c.id.in_(ids))).first()
            if taken is not None:
                raise ConflictError(f"a memory with id {taken[0]!r} already exists")
            if self.is_sqlite:
                # One writer at a time: max + 1 is the next in insertion order
                # (PostgreSQL's rows take theirs from the memory_seq sequence).
                last = conn.execute(select(func.coalesce(func.max(memory_t.c.seq), 0))).scalar()
                for number, row in enumerate(rows, start=int(last or 0) + 1):
                    row["seq"] = number
            conn.execute(insert(memory_t), rows)
            if tag_rows:
                conn.execute(insert(tag_t), tag_rows)
        return [m for m in result if m is not None]

    @staticmethod
    def _memory_row(memory: Memory) -> dict[str, Any]:
        return {
            "id": memory.id,
            "time": memory.time,
            "agent_id": memory.agent_id,
            "content": memory.content,
            "memory_type": memory.memory_type,
            "event_type": memory.event_type,
            "session_id": memory.session_id,
            "tags": memory.tags,
            "importance": memory.importance,
            "metadata": memory.metadata,
            "parent_id": memory.parent_id,
            "dedup_key": memory.dedup_key,
            "org_id": memory.org_id,
            "content_hash": content_hash(memory.content),
        }

    def get_memory(self, memory_id: str) -> Memory:
        def op(tx: _Tx) -> Memory:
            row = tx.conn.execute(select(*MEMORY_COLUMNS).where(memory_t.c.id == memory_id)).first()
            if row is None:
                raise NotFoundError(f"memory {memory_id!r} not found")
            return _memory(row)

        return self._read(op)

    def _memory_filters(self, conn: Connection, query: MemoryQuery) -> list[Any]:
        clauses: list[Any] = []
        if query.agent_id is not None:
            clauses.append(memory_t.c.agent_id == self._resolve_agent_id(conn, query.agent_id))
        if query.session_id is not None:
            clauses.append(memory_t.c.session_id == query.session_id)
        if query.memory_types:
            clauses.append(memory_t.c.memory_type.in_(list(query.memory_types)))
        if query.exclude_types:
            clauses.append(memory_t.c.memory_type.not_in(list(query.exclude_types)))
        if query.event_types:
            clauses.append(memory_t.c.event_type.in_(list(query.event_types)))
        for tag in dict.fromkeys(query.tags):
            clauses.append(exists().where(tag_t.c.memory_id == memory_t.c.id, tag_t.c.tag == tag))
        if query.content_contains:
            clauses.append(memory_t.c.content.icontains(query.content_contains, autoescape=True))
        if query.min_importance is not None:
            clauses.append(memory_t.c.importance >= query.min_importance)
        if query.since is not None:
            clauses.append(memory_t.c.time >= literal(ensure_utc(query.since), UTCDateTime()))
        if query.until is not None:
            clauses.append(memory_t.c.time <= literal(ensure_utc(query.until), UTCDateTime()))
        return clauses

    @staticmethod
    def _check_query(query: MemoryQuery) -> None:
        if query.order not in (Order.ASC, Order.DESC):
            raise InvalidInputError(
                f"order {query.order!r} is not asc or desc", field="order", value=query.order
            )
        if not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInputError(
                f"limit must be from 1 to {MAX_PAGE}, got {query.limit!r}",
                field="limit",
                value=query.limit,
            )
        if not isinstance(query.offset, int) or query.offset < 0:
            raise InvalidInputError(
                f"offset must be 0 or more, got {query.offset!r}",
                field="offset",
                value=query.offset,
            )
        if query.min_importance is not None:
            check.check_importance(query.min_importance)
        # Filters are compared as text: a NUL would be a database error on PostgreSQL
        # (and match nothing on SQLite); refused alike on both, naming the filter.
        for name in ("agent_id", "session_id", "content_contains"):
            value = getattr(query, name)
            if isinstance(value, str):
                check.check_storable(name, value)
        for name in ("memory_types", "exclude_types", "event_types", "tags"):
            for value in getattr(query, name) or ():
                if isinstance(value, str):
                    check.check_storable(name, value)
        if query.since and query.until and ensure_utc(query.since) > ensure_utc(query.until):
            raise InvalidInputError(
                f"since ({query.since.isoformat()}) is after until ({query.until.isoformat()})",
                field="since",
                value=query.since,
            )

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        self._check_query(query)

        def op(tx: _Tx) -> MemoryPage:
            descending = query.order == Order.DESC
            clauses = self._memory_filters(tx.conn, query)
            if query.after is not None:
                key = tuple_(memory_t.c.time, memory_t.c.seq)
                position = tuple_(
                    literal(ensure_utc(query.after.time), UTCDateTime()),
                    _cursor_seq(query.after.id, descending=descending),
                )
                clauses.append(key < position if descending else key > position)
            order = (
                (memory_t.c.time.desc(), memory_t.c.seq.desc())
                if descending
                else (memory_t.c.time.asc(), memory_t.c.seq.asc())
            )
            stmt = select(*MEMORY_COLUMNS).where(*clauses).order_by(*order)
            stmt = stmt.limit(query.limit + 1)
            if query.offset and query.after is None:
                stmt = stmt.offset(query.offset)
            memories = [_memory(r) for r in tx.conn.execute(stmt)]
            has_more = len(memories) > query.limit
            memories = memories[: query.limit]
            cursor = (
                MemoryCursor(time=memories[-1].time, id=memories[-1].id)
                if has_more and memories
                else None
            )
            return MemoryPage(memories=memories, has_more=has_more, next_cursor=cursor)

        return self._read(op)

    def count_memories(self, query: MemoryQuery) -> int:
        self._check_query(query)
        return self._read(
            lambda tx: int(
                tx.conn.execute(
                    select(func.count())
                    .select_from(memory_t)
                    .where(*self._memory_filters(tx.conn, query))
                ).scalar_one()
            )
        )

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        def op(tx: _Tx) -> list[str]:
            conn = tx.conn
            if agent_id is None and session_id is None:
                stored = self._all_memory_types(conn)
            else:
                stmt = select(memory_t.c.memory_type).distinct()
                if agent_id is not None:
                    stmt = stmt.where(memory_t.c.agent_id == self._resolve_agent_id(conn, agent_id))
                if session_id is not None:
                    stmt = stmt.where(memory_t.c.session_id == session_id)
                stored = set(conn.execute(stmt).scalars())
            return sorted(set(MEMTRACE_MEMORY_TYPES) | stored)

        return self._read(op)

    @staticmethod
    def _all_memory_types(conn: Connection) -> set[str]:
        # A loose index scan: one index probe per distinct type instead of reading the
        # whole (memory_type, time, id) index of millions of rows.
        rows = conn.execute(
            text(
                "WITH RECURSIVE t(mt) AS ("
                " SELECT (SELECT MIN(memory_type) FROM memory)"
                " UNION ALL"
                " SELECT (SELECT MIN(memory_type) FROM memory WHERE memory_type > t.mt)"
                " FROM t WHERE t.mt IS NOT NULL"
                ") SELECT mt FROM t WHERE mt IS NOT NULL"
            )
        )
        return {r[0] for r in rows}

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        values: dict[str, Any] = {}
        if patch.content is not None:
            values["content"] = check.check_text("content", patch.content)
            values["content_hash"] = content_hash(patch.content)
        if patch.memory_type is not None:
            values["memory_type"] = check.check_type_name("memory_type", patch.memory_type)
        if patch.event_type is not None:
            values["event_type"] = check.check_type_name("event_type", patch.event_type)
        if patch.tags is not None:
            values["tags"] = check.check_tags(patch.tags)
        if patch.importance is not None:
            values["importance"] = check.check_importance(patch.importance)
        if patch.metadata is not None:
            values["metadata"] = check.check_object("metadata", patch.metadata)

        def op(tx: _Tx) -> Memory:
            conn = tx.conn
            found = conn.execute(select(memory_t.c.id).where(memory_t.c.id == memory_id)).first()
            if found is None:
                raise NotFoundError(f"memory {memory_id!r} not found")
            if values:
                conn.execute(update(memory_t).where(memory_t.c.id == memory_id).values(**values))
            if "tags" in values:
                conn.execute(delete(tag_t).where(tag_t.c.memory_id == memory_id))
                if values["tags"]:
                    conn.execute(
                        insert(tag_t), [{"tag": t, "memory_id": memory_id} for t in values["tags"]]
                    )
            memory = _memory(
                conn.execute(select(*MEMORY_COLUMNS).where(memory_t.c.id == memory_id)).one()
            )
            if values:
                tx.emit(
                    ChangeKind.MEMORY_UPDATED,
                    memory.id,
                    agent_id=memory.agent_id,
                    session_id=memory.session_id,
                    data=memory.to_json(),
                )
            return memory

        return self._write(op)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return 0

        def op(tx: _Tx) -> int:
            conn = tx.conn
            deleted = 0
            for start in range(0, len(ids), 500):  # stay under bind-parameter limits
                chunk = ids[start : start + 500]
                found = conn.execute(
                    select(memory_t.c.id, memory_t.c.agent_id, memory_t.c.session_id).where(
                        memory_t.c.id.in_(chunk)
                    )
                ).all()
                if not found:
                    continue
                present = [r[0] for r in found]
                conn.execute(delete(tag_t).where(tag_t.c.memory_id.in_(present)))
                conn.execute(delete(memory_t).where(memory_t.c.id.in_(present)))
                for memory_id, agent_id, session_id in found:
                    tx.emit(
                        ChangeKind.MEMORY_DELETED,
                        memory_id,
                        agent_id=agent_id,
                        session_id=session_id,
                        data={"id": memory_id},
                    )
                deleted += len(found)
            return deleted

        return self._write(op)

    # --- working memory ----------------------------------------------------------------

    def _get_wm(self, conn: Connection, session_id: str, key: str) -> WorkingMemoryItem | None:
        row = conn.execute(
            select(*WM_COLUMNS).where(wm_t.c.session_id == session_id, wm_t.c.key == key)
        ).first()
        return None if row is None else _wm_item(row)

    def _version_conflict(
        self, conn: Connection, session_id: str, key: str, expected: int
    ) -> VersionConflictError:
        current = self._get_wm(conn, session_id, key)
        if current is None:
            message = (
                f"working-memory key {key!r} was deleted meanwhile (you had version {expected})"
            )
        elif expected == 0:
            message = f"working-memory key {key!r} already exists (version {current.version})"
        else:
            message = (
                f"working-memory key {key!r} changed meanwhile: you had version {expected}, "
                f"it is now at version {current.version}"
            )
        return VersionConflictError(message, current=current, expected_version=expected)

    def _emit_wm(
        self, tx: _Tx, agent_id: str, item: WorkingMemoryItem, op: str, **extra: Any
    ) -> None:
        data = item.to_json()
        data.update(op=op, **extra)
        tx.emit(
            ChangeKind.WORKING_MEMORY_CHANGED,
            item.key,
            agent_id=agent_id,
            session_id=item.session_id,
            data=data,
        )

    @staticmethod
    def _check_expected(expected_version: int | None) -> None:
        if expected_version is not None and (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or not 0 <= expected_version <= MAX_VERSION
        ):
            raise InvalidInputError(
                f"expected_version must be a whole number from 0 to {MAX_VERSION}, "
                f"got {expected_version!r}",
                field="expected_version",
                value=expected_version,
            )

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        def op(tx: _Tx) -> list[WorkingMemoryItem]:
            self._get_session(tx.conn, session_id)
            rows = tx.conn.execute(
                select(*WM_COLUMNS).where(wm_t.c.session_id == session_id).order_by(wm_t.c.key)
            )
            return [_wm_item(r) for r in rows]

        return self._read(op)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        def op(tx: _Tx) -> WorkingMemoryItem:
            self._get_session(tx.conn, session_id)
            item = self._get_wm(tx.conn, session_id, key)
            if item is None:
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            return item

        return self._read(op)

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        check.check_text("key", key, max_length=500)
        value = check.check_json("value", value)
        importance = check.check_importance(importance)
        self._check_expected(expected_version)

        def op(tx: _Tx) -> WorkingMemoryItem:
            conn = tx.conn
            session = self._get_session(conn, session_id)
            where = (wm_t.c.session_id == session_id, wm_t.c.key == key)
            changes: dict[str, Any] = {
                "value": value,
                "version": wm_t.c.version + 1,
                "updated_at": tx.now,
            }
            if importance is not None:
                changes["importance"] = importance
            if expected_version == 0 or expected_version is None:
                inserted = conn.execute(
                    self._insert_ignore(wm_t).values(
                        session_id=session_id,
                        key=key,
                        value=value,
                        importance=DEFAULT_WORKING_MEMORY_IMPORTANCE
                        if importance is None
                        else importance,
                        version=1,
                        updated_at=tx.now,
                    )
                ).first()
                if not inserted:
                    if expected_version == 0:
                        raise self._version_conflict(conn, session_id, key, 0)
                    conn.execute(update(wm_t).where(*where).values(**changes))
            else:
                # Conditional UPDATE: of two racing writers only one matches the version.
                updated = conn.execute(
                    update(wm_t).where(*where, wm_t.c.version == expected_version).values(**changes)
                ).rowcount
                if not updated:
                    raise self._version_conflict(conn, session_id, key, expected_version)
            item = self._get_wm(conn, session_id, key)
            assert item is not None
            self._emit_wm(tx, session.agent_id, item, "set")
            return item

        return self._write(op)

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        check.check_text("new_key", new_key, max_length=500)
        self._check_expected(expected_version)

        def op(tx: _Tx) -> WorkingMemoryItem:
            conn = tx.conn
            session = self._get_session(conn, session_id)
            current = self._get_wm(conn, session_id, key)
            if current is None:
                if expected_version is not None:
                    raise self._version_conflict(conn, session_id, key, expected_version)
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            if expected_version is not None and current.version != expected_version:
                raise self._version_conflict(conn, session_id, key, expected_version)
            if new_key == key:
                return current
            if self._get_wm(conn, session_id, new_key) is not None:
                raise ConflictError(f"working-memory key {new_key!r} already exists")
            updated = conn.execute(
                update(wm_t)
                .where(
                    wm_t.c.session_id == session_id,
                    wm_t.c.key == key,
                    wm_t.c.version == current.version,
                )
                .values(key=new_key, version=current.version + 1, updated_at=tx.now)
            ).rowcount
            if not updated:
                raise self._version_conflict(conn, session_id, key, current.version)
            item = self._get_wm(conn, session_id, new_key)
            assert item is not None
            self._emit_wm(tx, session.agent_id, item, "rename", old_key=key)
            return item

        return self._write(op)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        self._check_expected(expected_version)

        def op(tx: _Tx) -> None:
            conn = tx.conn
            session = self._get_session(conn, session_id)
            current = self._get_wm(conn, session_id, key)
            if current is None:
                if expected_version is not None:
                    raise self._version_conflict(conn, session_id, key, expected_version)
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            stmt = delete(wm_t).where(wm_t.c.session_id == session_id, wm_t.c.key == key)
            if expected_version is not None:
                stmt = stmt.where(wm_t.c.version == expected_version)
            if not conn.execute(stmt).rowcount:
                raise self._version_conflict(conn, session_id, key, expected_version or 0)
            self._emit_wm(tx, session.agent_id, current, "delete")

        self._write(op)

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        check.check_importance(min_importance, required=True)

        def op(tx: _Tx) -> CommitResult:
            conn = tx.conn
            session = self._get_session(conn, session_id)
            items = [
                _wm_item(r)
                for r in conn.execute(
                    select(*WM_COLUMNS).where(wm_t.c.session_id == session_id).order_by(wm_t.c.key)
                )
            ]

            def content_exists(_content: str, digest: str) -> bool:
                return (
                    conn.execute(
                        select(memory_t.c.id)
                        .where(
                            memory_t.c.agent_id == session.agent_id,
                            memory_t.c.content_hash == digest,
                        )
                        .limit(1)
                    ).first()
                    is not None
                )

            plan = plan_commit(
                session,
                items,
                min_importance=min_importance,
                deduplicate=deduplicate,
                content_exists=content_exists,
            )
            created = self._add_memories(tx, plan.to_create) if plan.to_create else []
            return plan.result(created)

        return self._write(op)

    # --- snapshots ---------------------------------------------------------------------

    def _insert_snapshot(self, tx: _Tx, snapshot: Snapshot) -> Snapshot:
        tx.conn.execute(
            insert(snapshot_t).values(
                id=snapshot.id,
                session_id=snapshot.session_id,
                agent_id=snapshot.agent_id,
                event=snapshot.event,
                created_at=snapshot.created_at,
                project_path=snapshot.project_path,
                files_modified=snapshot.files_modified,
                key_decisions=snapshot.key_decisions,
                open_tasks=snapshot.open_tasks,
            )
        )
        tx.emit(
            ChangeKind.SNAPSHOT_CREATED,
            snapshot.id,
            agent_id=snapshot.agent_id,
            session_id=snapshot.session_id,
            data=snapshot.to_json(),
        )
        return snapshot

    @staticmethod
    def _checked_snapshot(snapshot: NewSnapshot) -> dict[str, Any]:
        check.check_snapshot_event(snapshot.event)
        check.check_optional_text("project_path", snapshot.project_path)
        return {
            "event": snapshot.event,
            "project_path": snapshot.project_path,
            "files_modified": check.check_string_list("files_modified", snapshot.files_modified),
            "key_decisions": check.check_string_list("key_decisions", snapshot.key_decisions),
            "open_tasks": check.check_string_list("open_tasks", snapshot.open_tasks),
        }

    def create_snapshot(
        self, session_id: str, snapshot: NewSnapshot, *, created_at: datetime | None = None
    ) -> Snapshot:
        """`created_at` (not in the protocol) lets imports and the demo backdate it."""
        fields = self._checked_snapshot(snapshot)

        def op(tx: _Tx) -> Snapshot:
            session = self._get_session(tx.conn, session_id)
            return self._insert_snapshot(
                tx,
                Snapshot(
                    id=new_snapshot_id(),
                    session_id=session_id,
                    agent_id=session.agent_id,
                    created_at=ensure_utc(created_at) if created_at else tx.now,
                    **fields,
                ),
            )

        return self._write(op)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        def op(tx: _Tx) -> list[Snapshot]:
            self._get_session(tx.conn, session_id)
            rows = tx.conn.execute(
                select(*SNAPSHOT_COLUMNS)
                .where(snapshot_t.c.session_id == session_id)
                .order_by(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc())
            )
            return [_snapshot(r) for r in rows]

        return self._read(op)

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        def op(tx: _Tx) -> Snapshot:
            row = tx.conn.execute(
                select(*SNAPSHOT_COLUMNS).where(snapshot_t.c.id == snapshot_id)
            ).first()
            if row is None:
                raise NotFoundError(f"snapshot {snapshot_id!r} not found")
            return _snapshot(row)

        return self._read(op)

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        def op(tx: _Tx) -> Snapshot:
            stmt = select(*SNAPSHOT_COLUMNS)
            if agent_id is not None:
                stmt = stmt.where(
                    snapshot_t.c.agent_id == self._resolve_agent_id(tx.conn, agent_id)
                )
            row = tx.conn.execute(
                stmt.order_by(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc()).limit(1)
            ).first()
            if row is None:
                who = f" for agent {agent_id!r}" if agent_id else ""
                raise NotFoundError(f"no snapshot found{who}")
            return _snapshot(row)

        return self._read(op)

    # --- briefing and context ----------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        check.check_positive_duration("lookback", lookback)

        def op(tx: _Tx) -> Briefing:
            conn, now = tx.conn, tx.now
            resolved = self._resolve_agent_id(conn, agent_id) if agent_id else None
            recent_stmt = select(*MEMORY_COLUMNS).where(
                memory_t.c.time >= literal(now - lookback, UTCDateTime())
            )
            session_stmt = select(*SESSION_COLUMNS).where(self._status_clause("active", now))
            # Latest snapshot of each session (a window function: SQLite >= 3.25 and PG).
            ranked = select(
                *SNAPSHOT_COLUMNS,
                func.row_number()
                .over(
                    partition_by=snapshot_t.c.session_id,
                    order_by=(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc()),
                )
                .label("rank"),
            )
            if resolved:
                recent_stmt = recent_stmt.where(memory_t.c.agent_id == resolved)
                session_stmt = session_stmt.where(session_t.c.agent_id == resolved)
                ranked = ranked.where(snapshot_t.c.agent_id == resolved)
            recent = [
                _memory(r)
                for r in conn.execute(
                    recent_stmt.order_by(memory_t.c.time.desc(), memory_t.c.seq.desc()).limit(
                        RECENT_ACTIVITY_LIMIT
                    )
                )
            ]
            active = [
                _session(r)
                for r in conn.execute(
                    session_stmt.order_by(session_t.c.created_at.desc(), session_t.c.id.desc())
                )
            ]
            latest = ranked.subquery()
            latest_snapshots = (
                _snapshot(row)
                for row in conn.execute(
                    select(*[latest.c[c.name] for c in SNAPSHOT_COLUMNS])
                    .where(latest.c.rank == 1)
                    .order_by(latest.c.created_at.desc(), latest.c.id.desc())
                )
            )
            return assemble_briefing(
                now=now,
                lookback=lookback,
                recent_activity=recent,
                active_sessions=active,
                latest_snapshots=latest_snapshots,
                agent_id=resolved,
            )

        return self._read(op)

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        from memtui.domain.context import render_context, validate_context_request

        prioritised = request.max_tokens is not None

        def require_session(conn: Connection) -> None:
            found = conn.execute(select(session_t.c.id).where(session_t.c.id == session_id))
            if found.first() is None:
                raise NotFoundError(f"session {session_id!r} not found")

        def op(tx: _Tx) -> ContextResult:
            conn = tx.conn
            try:
                window = validate_context_request(
                    request, tx.now, _KnownTypes(conn, self._all_memory_types)
                )
            except InvalidInputError:
                require_session(conn)  # an unknown session is reported first
                raise
            if not prioritised:
                require_session(conn)
                query = MemoryQuery(
                    session_id=session_id,
                    memory_types=tuple(window.include_types),
                    exclude_types=tuple(window.exclude_types),
                    since=window.since,
                    until=window.until,
                )
                filters = self._memory_filters(conn, query)
                if request.order == Order.ASC:
                    order: tuple[Any, ...] = (memory_t.c.time.asc(), memory_t.c.seq.asc())
                else:
                    order = (memory_t.c.time.desc(), memory_t.c.seq.desc())
                stmt = select(*CONTEXT_COLUMNS).where(*filters).order_by(*order)
                rows = [_context_row(r) for r in conn.execute(stmt)]
                return render_context(session_id, rows, request)
            # The engine's own priority order, read only as far as the budget reaches
            # (see render_context's priority_ordered).
            assert request.max_tokens is not None
            rows = _PriorityRows(
                conn,
                window,
                session_id=session_id,
                max_tokens=request.max_tokens,
                stream=self.is_sqlite,
            )
            try:
                if rows.session_found is None:
                    require_session(conn)
                elif not rows.session_found:
                    raise NotFoundError(f"session {session_id!r} not found")
                return render_context(session_id, rows, request, priority_ordered=True)
            finally:
                rows.close()

        return self._run(op, write=False, snapshot=True)

    # --- change feed -------------------------------------------------------------------

    def latest_change_id(self) -> int:
        return self._read(
            lambda tx: int(tx.conn.execute(select(func.max(change_t.c.id))).scalar() or 0)
        )

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        if (
            isinstance(cursor, bool)
            or not isinstance(cursor, int)
            or not 0 <= cursor <= MAX_VERSION
        ):  # noqa: E501
            raise InvalidInputError(
                f"change cursor must be a whole number from 0 to {MAX_VERSION}, got {cursor!r}",
                field="after",
                value=cursor,
            )
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise InvalidInputError(
                f"cursor must be a whole number >= 0, got {cursor!r}", field="cursor"
            )
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(
                f"limit must be a positive integer, got {limit!r}", field="limit"
            )

        def op(tx: _Tx) -> list[Change]:
            rows = tx.conn.execute(
                select(
                    change_t.c.id,
                    change_t.c.kind,
                    change_t.c.entity_id,
                    change_t.c.at,
                    change_t.c.agent_id,
                    change_t.c.session_id,
                    change_t.c.data,
                )
                .where(change_t.c.id > cursor)
                .order_by(change_t.c.id)
                .limit(limit)
            )
            return [Change(*r) for r in rows]

        return self._read(op)

    # --- helpers for tools (not part of the protocol) ------------------------------------

    def memory_ids_exist(self, memory_ids: Iterable[str]) -> set[str]:
        """Which of these memory ids are stored (the demo uses it to stay idempotent)."""
        ids = list(memory_ids)

        def op(tx: _Tx) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), 500):
                found.update(
                    tx.conn.execute(
                        select(memory_t.c.id).where(memory_t.c.id.in_(ids[start : start + 500]))
                    ).scalars()
                )
            return found

        return self._read(op)


def _parse_sql_time(value: Any) -> datetime | None:
    """MAX() over a SQLite text column comes back as text, not through the type."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value)
    return ensure_utc(datetime.fromisoformat(str(value)))
