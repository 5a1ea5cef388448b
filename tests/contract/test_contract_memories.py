"""Memories: add (all or nothing), get, every filter, keyset paging, edit, delete."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import MemoryPatch, MemoryQuery, NewMemory
from tests.helpers.requirements import TEST_CLOCK, Capability, requires


@pytest.fixture
def timeline(backend: Backend, clock):
    """37 memories in one session, one per minute, plus a few in another session."""
    session = backend.create_session("researcher")
    other = backend.create_session("support-bot")
    types = ["episodic", "decision", "entity", "session", "observation"]
    new = [
        NewMemory(
            agent_id="researcher",
            session_id=session.id,
            content=f"step {i:02d}" + (" Needle" if i % 6 == 0 else ""),
            memory_type=types[i % 5],
            event_type="error" if i % 7 == 0 else "general",
            tags=["alpha"] + (["beta"] if i % 2 else []) + (["gamma"] if i % 3 == 0 else []),
            importance=round((i % 10) / 10, 1),
            metadata={"i": i},
            time=clock.now - timedelta(minutes=40 - i),
        )
        for i in range(37)
    ]
    new += [
        NewMemory(
            agent_id="support-bot",
            session_id=other.id,
            content=f"ticket {i}",
            time=clock.now - timedelta(minutes=i),
        )
        for i in range(3)
    ]
    stored = backend.add_memories(new)
    return session, other, stored


def _page_through(backend: Backend, query: MemoryQuery) -> list[str]:
    from dataclasses import replace

    seen: list[str] = []
    page = backend.list_memories(query)
    seen += [m.id for m in page.memories]
    while page.has_more:
        assert page.next_cursor is not None
        page = backend.list_memories(replace(query, after=page.next_cursor))
        seen += [m.id for m in page.memories]
    return seen


@requires(TEST_CLOCK)
def test_add_and_get_round_trip(backend: Backend, clock) -> None:
    parent, child = backend.add_memories(
        [
            NewMemory(agent_id="a", content="parent", tags=["t"], importance=0.9),
        ]
    ) + backend.add_memories([NewMemory(agent_id="a", content="child", parent_id="p")])
    got = backend.get_memory(parent.id)
    assert got == parent
    assert got.time == clock.now
    assert got.time.tzinfo is not None
    assert got.tags == ["t"] and got.importance == 0.9
    assert got.memory_type == "episodic" and got.event_type == "general"
    assert backend.get_memory(child.id).parent_id == "p"
    with pytest.raises(NotFoundError):
        backend.get_memory("mem_missing")


@requires(Capability.MEMORY_TIME)
def test_times_round_trip_as_aware_utc(backend: Backend, clock) -> None:
    when = clock.now - timedelta(days=3, microseconds=123456)
    [memory] = backend.add_memories([NewMemory(agent_id="a", content="x", time=when)])
    got = backend.get_memory(memory.id)
    assert got.time == when
    assert got.time.utcoffset() == timedelta(0)


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_keyset_paging_newest_first_has_no_gaps_or_duplicates(backend: Backend, timeline) -> None:
    session, _other, stored = timeline
    expected = [m.id for m in sorted(stored[:37], key=lambda m: (m.time, m.id), reverse=True)]

    seen = _page_through(backend, MemoryQuery(session_id=session.id, limit=5))

    assert seen == expected


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_keyset_paging_oldest_first(backend: Backend, timeline) -> None:
    session, _other, stored = timeline
    expected = [m.id for m in sorted(stored[:37], key=lambda m: (m.time, m.id))]

    seen = _page_through(backend, MemoryQuery(session_id=session.id, limit=6, order="asc"))

    assert seen == expected


def test_paging_through_equal_times(backend: Backend) -> None:
    # One batch without explicit times: every memory shares the clock's instant.
    stored = backend.add_memories([NewMemory(agent_id="a", content=f"m{i}") for i in range(11)])
    seen = _page_through(backend, MemoryQuery(agent_id="a", limit=3))
    assert sorted(seen) == sorted(m.id for m in stored)
    assert len(seen) == len(set(seen)) == 11


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_last_page_has_no_more(backend: Backend, timeline) -> None:
    session, _other, _stored = timeline
    page = backend.list_memories(MemoryQuery(session_id=session.id, limit=37))
    assert page.count == 37 and not page.has_more and page.next_cursor is None


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_offset_for_small_compat_offsets(backend: Backend, timeline) -> None:
    session, _other, _stored = timeline
    everything = backend.list_memories(MemoryQuery(session_id=session.id, limit=37)).memories
    page = backend.list_memories(MemoryQuery(session_id=session.id, limit=5, offset=10))
    assert page.memories == everything[10:15]


@pytest.mark.parametrize(
    ("query_kwargs", "predicate"),
    [
        (
            {"memory_types": ("decision", "entity")},
            lambda m: m.memory_type in ("decision", "entity"),
        ),
        ({"exclude_types": ("episodic",)}, lambda m: m.memory_type != "episodic"),
        ({"event_types": ("error",)}, lambda m: m.event_type == "error"),
        ({"tags": ("beta", "gamma")}, lambda m: {"beta", "gamma"} <= set(m.tags)),
        ({"content_contains": "needle"}, lambda m: "needle" in m.content.lower()),
        ({"min_importance": 0.7}, lambda m: (m.importance or 0) >= 0.7),
    ],
    ids=["types", "exclude", "events", "tags-all", "contains", "importance"],
)
@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_filters(backend: Backend, timeline, query_kwargs, predicate) -> None:
    session, _other, stored = timeline
    expected = {m.id for m in stored[:37] if predicate(m)}
    assert expected  # the fixture has matches for every filter
    query = MemoryQuery(session_id=session.id, limit=100, **query_kwargs)

    got = backend.list_memories(query).memories

    assert {m.id for m in got} == expected
    assert backend.count_memories(query) == len(expected)


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_since_until_and_agent_filters(backend: Backend, timeline, clock) -> None:
    _session, _other, stored = timeline
    since, until = clock.now - timedelta(minutes=20), clock.now - timedelta(minutes=10)
    query = MemoryQuery(agent_id="researcher", since=since, until=until, limit=100)
    got = backend.list_memories(query).memories
    assert {m.id for m in got} == {
        m.id for m in stored if m.agent_id == "researcher" and since <= m.time <= until
    }
    assert len(got) == 11  # both ends inclusive
    assert backend.count_memories(MemoryQuery(agent_id="support-bot")) == 3


def test_like_wildcards_are_literal_in_content_search(backend: Backend) -> None:
    backend.add_memories(
        [NewMemory(agent_id="a", content="100% done"), NewMemory(agent_id="a", content="1000 done")]
    )
    got = backend.list_memories(MemoryQuery(content_contains="0%")).memories
    assert [m.content for m in got] == ["100% done"]


@requires(Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES)
def test_memory_types_include_memtrace_and_custom(backend: Backend, timeline) -> None:
    session, other, _stored = timeline
    assert backend.list_memory_types() == [
        "decision",
        "entity",
        "episodic",
        "observation",
        "session",
    ]
    assert "observation" not in backend.list_memory_types(session_id=other.id)


@requires(Capability.EVENTS)
def test_add_is_all_or_nothing(backend: Backend) -> None:
    before = backend.latest_change_id()
    with pytest.raises(InvalidInputError, match="importance") as err:
        backend.add_memories(
            [
                NewMemory(agent_id="a", content="fine"),
                NewMemory(agent_id="a", content="bad", importance=1.5),
            ]
        )
    assert "1.5" in str(err.value)
    assert backend.count_memories(MemoryQuery()) == 0
    assert backend.latest_change_id() == before


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"content": "  "}, "content"),
        ({"memory_type": "no spaces please"}, "memory_type"),
        ({"importance": -0.1}, "importance"),
        ({"metadata": {"x": float("nan")}}, "metadata"),
        ({"tags": "not-a-list"}, "tags"),
    ],
)
def test_bad_memories_name_the_field(backend: Backend, bad, named) -> None:
    fields = {"agent_id": "a", "content": "ok"} | bad
    with pytest.raises(InvalidInputError, match=named):
        backend.add_memories([NewMemory(**fields)])
    assert backend.count_memories(MemoryQuery()) == 0


def test_dedup_key_stores_once(backend: Backend) -> None:
    [first] = backend.add_memories([NewMemory(agent_id="a", content="x", dedup_key="k1")])
    [again] = backend.add_memories([NewMemory(agent_id="a", content="x", dedup_key="k1")])
    assert again.id == first.id
    assert backend.count_memories(MemoryQuery(agent_id="a")) == 1


def test_update_and_delete(backend: Backend) -> None:
    [memory, other] = backend.add_memories(
        [NewMemory(agent_id="a", content="draft", tags=["x"]), NewMemory(agent_id="a", content="o")]
    )
    updated = backend.update_memory(
        memory.id, MemoryPatch(content="final", tags=["y"], importance=0.4, metadata={"k": 1})
    )
    assert (updated.content, updated.tags, updated.importance, updated.metadata) == (
        "final",
        ["y"],
        0.4,
        {"k": 1},
    )
    assert backend.list_memories(MemoryQuery(tags=("x",))).memories == []
    assert [m.id for m in backend.list_memories(MemoryQuery(tags=("y",))).memories] == [memory.id]
    with pytest.raises(InvalidInputError, match="importance"):
        backend.update_memory(memory.id, MemoryPatch(importance=2))

    assert backend.delete_memories([memory.id, "mem_missing"]) == 1
    with pytest.raises(NotFoundError):
        backend.get_memory(memory.id)
    assert backend.get_memory(other.id).content == "o"


def test_search_finds_what_the_filter_finds(backend: Backend) -> None:
    """Whatever the order (ranked where the backend can), search returns the memories
    the substring filter returns, and says how it orders them."""
    contents = ["refresh the token", "Token refresh failed", "unrelated", "a REFRESH", "re"]
    backend.add_memories([NewMemory(agent_id="searcher", content=c) for c in contents])
    for text, limit in (("refresh", 10), ("REFRESH", 2), ("re", 10), ("nothing here", 5)):
        query = MemoryQuery(agent_id="searcher", content_contains=text, limit=limit)
        every = {m.id for m in backend.list_memories(replace(query, limit=100)).memories}
        page = backend.search_memories(query)
        assert {m.id for m in page.memories} <= every
        assert page.count == min(limit, len(every)) and page.has_more == (len(every) > limit)
    assert backend.search_method()
