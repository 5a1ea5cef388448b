"""Context building: the store reads a session's memories for the context engine
(memtui.domain.context). With a token budget it reads them in the engine's priority
order, only as far as the budget reaches (`_PriorityRows`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Float, Integer, bindparam, func, select, tuple_, type_coerce
from sqlalchemy.types import NullType

from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import (
    MEMTRACE_MEMORY_TYPES,
    ContextRequest,
    ContextResult,
    MemoryQuery,
    Order,
)
from memtui.store.engine import Database, Tx
from memtui.store.repos.memories import all_memory_types, memory_filters
from memtui.store.rows import memory_t, session_t
from memtui.store.tables import MEMORY_PRIORITY, UTCDateTime

if TYPE_CHECKING:
    # the engine imports tiktoken: the store imports it in build_context
    from memtui.domain.context import ContextWindow


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
    cache-key work, a twentieth of a whole build). The filters are memory_filters'."""
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


class ContextRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        from memtui.domain.context import render_context, validate_context_request

        prioritised = request.max_tokens is not None

        def require_session(conn: Connection) -> None:
            found = conn.execute(select(session_t.c.id).where(session_t.c.id == session_id))
            if found.first() is None:
                raise NotFoundError(f"session {session_id!r} not found")

        def op(tx: Tx) -> ContextResult:
            conn = tx.conn
            try:
                window = validate_context_request(
                    request, tx.now, _KnownTypes(conn, all_memory_types)
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
                filters = memory_filters(conn, query)
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
                stream=self.db.is_sqlite,
            )
            try:
                if rows.session_found is None:
                    require_session(conn)
                elif not rows.session_found:
                    raise NotFoundError(f"session {session_id!r} not found")
                return render_context(session_id, rows, request, priority_ordered=True)
            finally:
                rows.close()

        return self.db.run(op, write=False, snapshot=True)
