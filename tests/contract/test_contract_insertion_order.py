"""Issue 8 item 9: the memories of a batch share one timestamp and come back in the
order they were stored, everywhere a time is sorted: the list (both orders, and page
by page through the keyset cursor), the timeline's page source, the context (unlimited
and within a budget), the briefing's recent activity and the change feed. On every
backend kind (SQLite, PostgreSQL, a real server over HTTP).

The ids are chosen so that their own order is neither the insertion order nor its
reverse: a tie broken by id (as before) shows up."""

from __future__ import annotations

from datetime import timedelta

from memtui.backend import Backend
from memtui.domain.models import ContextRequest, MemoryQuery, NewMemory, Order
from memtui.tui.timeline_source import TimelineSource
from tests.helpers.requirements import Capability, requires

pytestmark = requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME)

N = 12
# Insertion order 0..11 under ids whose sorted order is 0, 7, 2, 9, 4, 11, 6, 1, ...
# (after the session's id: the HTTP kind's server lives for the whole test session)
SCRAMBLED = [f"m{(index * 7) % N:02d}-{index}" for index in range(N)]


def store_batch(backend: Backend, clock) -> tuple[str, list[str]]:
    session = backend.create_session("batcher")
    at = clock.now - timedelta(minutes=5)
    stored = backend.add_memories(
        [
            NewMemory(
                agent_id="batcher",
                session_id=session.id,
                content=f"step {index:02d}",
                time=at,
                id=f"{session.id}-{SCRAMBLED[index]}",
            )
            for index in range(N)
        ]
    )
    assert {m.time for m in stored} == {at}
    ids = [m.id for m in stored]
    assert ids == [f"{session.id}-{suffix}" for suffix in SCRAMBLED]
    assert sorted(ids) not in (ids, ids[::-1])
    return session.id, ids


def listed(backend: Backend, session_id: str, order: Order, limit: int) -> list[str]:
    """Every memory of the session, page by page through next_cursor."""
    ids: list[str] = []
    after = None
    while True:
        page = backend.list_memories(
            MemoryQuery(session_id=session_id, order=order.value, limit=limit, after=after)
        )
        ids += [m.id for m in page.memories]
        if not page.has_more:
            return ids
        after = page.next_cursor


def test_a_batch_lists_in_insertion_order(backend: Backend, clock) -> None:
    session_id, ids = store_batch(backend, clock)
    assert listed(backend, session_id, Order.ASC, 100) == ids
    assert listed(backend, session_id, Order.DESC, 100) == ids[::-1]
    for limit in (1, 5):  # the keyset cursor continues within the shared timestamp
        assert listed(backend, session_id, Order.ASC, limit) == ids
        assert listed(backend, session_id, Order.DESC, limit) == ids[::-1]


def test_the_timeline_pages_a_batch_in_insertion_order(backend: Backend, clock) -> None:
    session_id, ids = store_batch(backend, clock)
    source = TimelineSource(MemoryQuery(session_id=session_id), N, page_size=5)
    source.load_pages(backend, [0])
    source.load_pages(backend, [1])  # keyset from page 0's last row
    source.load_pages(backend, [2])
    shown = [source.peek(index) for index in range(N)]
    assert [m.id for m in shown if m is not None] == ids
    backwards = TimelineSource(MemoryQuery(session_id=session_id), N, page_size=5)
    backwards.load_pages(backend, [backwards.last_page])
    backwards.load_pages(backend, [1])  # keyset backwards from the last page's first row
    backwards.load_pages(backend, [0])
    assert [backwards.peek(index).id for index in range(N)] == ids  # type: ignore[union-attr]


def bullets(context: str) -> list[str]:
    return [line[2:] for line in context.splitlines() if line.startswith("- ")]


def test_the_context_keeps_a_batch_in_insertion_order(backend: Backend, clock) -> None:
    session_id, _ = store_batch(backend, clock)
    steps = [f"step {index:02d}" for index in range(N)]
    for budget in (None, 4000):
        oldest_first = backend.build_context(
            session_id, ContextRequest(max_tokens=budget, order=Order.ASC.value)
        )
        assert bullets(oldest_first.context) == steps, budget
        newest_first = backend.build_context(session_id, ContextRequest(max_tokens=budget))
        assert bullets(newest_first.context) == steps[::-1], budget
    # A budget that holds only some: the newest of the batch are the ones kept.
    tight = backend.build_context(session_id, ContextRequest(max_tokens=40))
    kept = bullets(tight.context)
    assert 0 < len(kept) < N and kept == steps[::-1][: len(kept)]


def test_the_briefing_and_the_change_feed_keep_a_batch_in_insertion_order(
    backend: Backend, clock
) -> None:
    start = backend.latest_change_id()
    session_id, ids = store_batch(backend, clock)
    recent = [m.id for m in backend.briefing().recent_activity if m.session_id == session_id]
    assert recent == ids[::-1]
    created = [
        change.entity_id
        for change in backend.changes_since(start)
        if change.kind == "memory.created"
    ]
    assert created == ids
