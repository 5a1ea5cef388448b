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
from memtui.domain.context import render_context
from memtui.domain.models import ContextRequest, MemoryQuery, NewMemory
from memtui.store import SqlStore
from memtui.store.sql import _PriorityRows

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
    return render_context(SESSION, memories, request)


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


def test_a_big_budget_reads_several_keyset_pages_and_stops(url: str) -> None:
    store = SqlStore(url, clock=ManualClock(NOW))
    pages: list[int] = []
    fill(store, 3000)  # 1,800 memories in the session, ~4 tokens each

    @event.listens_for(store.engine, "after_cursor_execute")
    def count_pages(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "ORDER BY coalesce(memory.importance, 0.5) DESC" in statement:
            pages.append(cursor.rowcount if cursor.rowcount >= 0 else -1)

    try:
        request = ContextRequest(max_tokens=3000)
        result = store.build_context(SESSION, request)
        assert result == reference(store, request, {})
        assert result.truncated and 0 < result.memory_count < 1800
        first = 3000 // 24 + 16
        assert len(pages) >= 2  # the first page alone could not fill the budget
        read = sum(first * 2**n for n in range(len(pages)))  # pages double
        assert read < 1800  # ...and the read stopped well before the session's end
        assert result.memory_count + result.omitted_count == 1800
    finally:
        store.close()


def test_rows_read_only_as_far_as_the_engine_asks(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url, clock=ManualClock(NOW))
    try:
        fill(store, 600)
        with store.engine.connect() as conn, conn.begin():
            rows = _PriorityRows(conn, [], first_page=10)
            assert [row.id for row in rows][:25] == [row.id for row in list(rows)[:25]]
            assert len(rows) == 600  # the first page carried the total
            partial = _PriorityRows(conn, [], first_page=10)
            iterator = iter(partial)
            for _ in range(15):
                next(iterator)
            assert len(partial._loaded) == 10 + 20  # two pages, nothing more
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
