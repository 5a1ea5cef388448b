"""Context builds under a budget read the session in priority order along
ix_memory_session_priority, in keyset pages, on SQLite and PostgreSQL.

- Every result equals the engine's on the session's memories read the plain way
  (list_memories with the same filters), for filters, orders and budgets, including
  budgets that need several pages and ties the keyset must break exactly (importance
  None vs 0.5, equal times).
- The store reads only about as far as the budget reaches, and the statement it runs is
  a streaming index scan: no sort (EXPLAIN QUERY PLAN / EXPLAIN).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from memtui.domain.clock import ManualClock
from memtui.domain.context import ContextWindow, render_context, sort_by_priority
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import ContextRequest, MemoryQuery, NewMemory
from memtui.store import SqlStore
from memtui.store.repos import context as context_module
from memtui.store.repos.context import _PriorityRows
from tests.helpers.insertion_order import with_insertion_order

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
SESSION = "sess_ctx_index"
OTHER = "sess_ctx_other"
TYPES = ("episodic", "decision", "entity", "session", "tool_call", "custom.kind")
WORDS = ("fetched", "page", "retry", "decided", "schema", "index", "cache", "user")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_ctx_index") as pg_url:
        yield pg_url


def fill(store: SqlStore, count: int, seed: int = 7) -> None:
    """Short memories (so budgets need several pages), many ties: a few importance
    values with None among them (None counts as 0.5, as does an explicit 0.5), and
    groups of memories at the very same time. Another session and memories without
    a session around them."""
    rng = random.Random(seed)
    store.create_session("agent_ctx", session_id=SESSION, ttl=None)
    store.create_session("agent_ctx", session_id=OTHER, ttl=None)
    memories = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        memories.append(
            NewMemory(
                agent_id="agent_ctx",
                session_id=(SESSION, SESSION, SESSION, OTHER, None)[n % 5],
                time=NOW - timedelta(minutes=n // 3),  # three at each instant
                content=words + ("\nmore" if n % 17 == 0 else "") + rng.choice(("", ".", "!")),
                memory_type=rng.choice(TYPES),
                event_type="error" if n % 11 == 0 else "general",
                importance=rng.choice((None, 0.5, 0.5, 0.9, 0.1, 1.0, 0.0)),
            )
        )
    store.add_memories(memories)


def reference(store: SqlStore, request: ContextRequest, window: dict[str, Any]) -> Any:
    """The engine on the window's memories, read the plain way."""
    memories = []
    after = None
    while True:
        page = store.list_memories(
            MemoryQuery(session_id=SESSION, limit=500, after=after, **window)
        )
        memories.extend(page.memories)
        if not page.has_more:
            break
        after = page.next_cursor
    return render_context(SESSION, with_insertion_order(store, memories), request)


WINDOWS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # (request fields, the same window as MemoryQuery fields)
    ({}, {}),
    ({"include_types": ["decision", "custom.kind"]}, {"memory_types": ("decision", "custom.kind")}),
    ({"exclude_types": ["episodic"]}, {"exclude_types": ("episodic",)}),
    (
        {"since": (NOW - timedelta(hours=2)).isoformat()},
        {"since": NOW - timedelta(hours=2)},
    ),
    (
        {
            "since": (NOW - timedelta(hours=3)).isoformat(),
            "until": (NOW - timedelta(hours=1)).isoformat(),
            "include_types": ["episodic", "entity", "session"],
            "exclude_types": ["session"],
        },
        {
            "since": NOW - timedelta(hours=3),
            "until": NOW - timedelta(hours=1),
            "memory_types": ("episodic", "entity", "session"),
            "exclude_types": ("session",),
        },
    ),
]


def test_priority_builds_equal_the_engine_on_the_plain_read(url: str) -> None:
    store = SqlStore(url, clock=ManualClock(NOW))
    try:
        fill(store, 1500)
        for fields, window in WINDOWS:
            for budget in (12, 40, 300, 2000, 6000):
                for order in ("desc", "asc"):
                    request = ContextRequest(max_tokens=budget, order=order, **fields)
                    result = store.build_context(SESSION, request)
                    assert result == reference(store, request, window), (fields, budget, order)
    finally:
        store.close()


def test_a_big_budget_reads_further_and_still_stops(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(url, clock=ManualClock(NOW))
    statements: list[str] = []
    readers: list[_PriorityRows] = []
    fill(store, 3000)  # 1,800 memories in the session, ~4 tokens each

    class Recorded(_PriorityRows):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr(context_module, "_PriorityRows", Recorded)

    @event.listens_for(store.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "ORDER BY coalesce(memory.importance, 0.5) DESC" in statement:
            statements.append(statement)

    try:
        request = ContextRequest(max_tokens=3000)
        result = store.build_context(SESSION, request)
        assert result == reference(store, request, {})
        assert result.truncated and 0 < result.memory_count < 1800
        assert result.memory_count + result.omitted_count == 1800
        read = len(readers[0]._loaded)
        assert result.memory_count < read < 1800  # read past the first rows, then stopped
        if store.is_sqlite:
            assert len(statements) == 1  # one statement, stepped as far as needed
        else:
            assert len(statements) >= 2  # the first page could not fill the budget
    finally:
        store.close()


@pytest.mark.parametrize("stream", [True, False])
def test_rows_are_read_only_as_far_as_the_engine_asks(sqlite_url: str, stream: bool) -> None:
    """Both ways of reading (SQLite's stepped statement, PostgreSQL's keyset pages),
    on SQLite: the same rows in the same order, and no page beyond the one needed."""
    store = SqlStore(sqlite_url, clock=ManualClock(NOW))
    try:
        fill(store, 1000)
        with store.engine.connect() as conn, conn.begin():
            window = ContextWindow()  # the whole session
            everything = _PriorityRows(
                conn, window, session_id=SESSION, max_tokens=100, stream=stream
            )
            assert len(everything) == 600 and everything.session_found
            ids = [row.id for row in everything]
            plain = store.list_memories(MemoryQuery(session_id=SESSION, limit=1000)).memories
            assert ids == [m.id for m in sort_by_priority(with_insertion_order(store, plain))]
            partial = _PriorityRows(conn, window, session_id=SESSION, max_tokens=100, stream=stream)
            first_page = len(partial._loaded)
            assert first_page == _PriorityRows.MIN_PAGE  # 100 tokens: a small first page
            second_page = partial._next_page_size()  # sized for the budget, from the rows
            iterator = iter(partial)
            for _ in range(first_page + 1):
                next(iterator)
            assert len(partial._loaded) == first_page + second_page < 600  # nothing more
            partial.close()
            missing = _PriorityRows(
                conn, window, session_id="sess_gone", max_tokens=100, stream=stream
            )
            assert missing.session_found is None and len(missing) == 0  # no row to say
            missing.close()
    finally:
        store.close()


def captured_page_statement(store: SqlStore, request: ContextRequest) -> tuple[str, Any]:
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "ORDER BY coalesce(memory.importance, 0.5) DESC" in statement:
            captured.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.build_context(SESSION, request)
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    return captured[0]


@pytest.mark.parametrize(
    "fields",
    [{}, {"include_types": ["decision", "entity"]}, {"exclude_types": ["episodic"]}],
)
def test_the_priority_read_is_a_streaming_index_scan_on_sqlite(
    sqlite_url: str, fields: dict[str, Any]
) -> None:
    store = SqlStore(sqlite_url, clock=ManualClock(NOW))
    try:
        fill(store, 300)
        statement, parameters = captured_page_statement(
            store, ContextRequest(max_tokens=500, **fields)
        )
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        details = [row[-1] for row in plan]
        main = [d for d in details if "SEARCH memory USING" in d and "COVERING" not in d]
        assert main and all("ix_memory_session_priority" in d for d in main), details
        assert not any("TEMP B-TREE" in d for d in details), details  # no sort
        count = [d for d in details if "COVERING INDEX" in d]
        assert count, details  # the window's total is counted from an index alone
    finally:
        store.close()


@pytest.mark.postgres
def test_the_priority_read_is_a_streaming_index_scan_on_postgres() -> None:
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_ctx_plan") as url:
        store = SqlStore(url, clock=ManualClock(NOW))
        try:
            fill(store, 300)
            with store.engine.connect() as conn:
                # a table of realistic size: rows of other sessions
                conn.exec_driver_sql(
                    "INSERT INTO memory (id, time, agent_id, content, memory_type, event_type,"
                    " session_id, tags, importance, metadata, org_id, content_hash)"
                    " SELECT 'mem_bulk_' || n, now() - n * interval '1 second', 'agent_bulk',"
                    " 'bulk ' || n, 'episodic', 'general', 'sess_bulk_' || mod(n, 200), '[]',"
                    " mod(n, 10) / 10.0, '{}', 'default', md5(n::text)"
                    " FROM generate_series(1, 30000) AS n"
                )
                conn.commit()
                # settled, as autovacuum leaves an insert-heavy table: statistics and a
                # visibility map (which makes index-only scans worth it)
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE memory"
                )
            statement, parameters = captured_page_statement(store, ContextRequest(max_tokens=500))
            with store.engine.connect() as conn:
                cursor = conn.connection.driver_connection.cursor()
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Index Scan Backward using ix_memory_session_priority" in plan, plan
            assert "Sort" not in plan, plan
            assert "Index Only Scan" in plan, plan  # the total, from an index alone
        finally:
            store.close()


def test_an_unknown_session_is_reported_first_on_every_path(url: str) -> None:
    """The session's existence rides on the first page's statement: a deleted session
    whose memories remain, one with no memories, and a bad request for either are all
    "not found", as before; an existing session with an empty window is not."""
    store = SqlStore(url, clock=ManualClock(NOW))
    try:
        fill(store, 50)
        store.delete_session(SESSION)  # its memories outlive it
        assert store.count_memories(MemoryQuery(session_id=SESSION)) == 30
        for session_id in (SESSION, "sess_never_was"):
            for request in (
                ContextRequest(max_tokens=500),
                ContextRequest(),
                ContextRequest(max_tokens=500, since="not a time"),
                ContextRequest(max_tokens=500, include_types=["no_such_type"]),
            ):
                with pytest.raises(NotFoundError, match=session_id):
                    store.build_context(session_id, request)
        with pytest.raises(InvalidInputError, match="no_such_type"):
            store.build_context(OTHER, ContextRequest(include_types=["no_such_type"]))
        long_ago = ContextRequest(max_tokens=500, until="2001-01-01T00:00:00Z")
        empty = store.build_context(OTHER, long_ago)
        assert empty.memory_count == 0 and empty.omitted_count == 0
        assert "_No memories in this window._" in empty.context
    finally:
        store.close()
