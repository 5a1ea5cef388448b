"""The demo data: deterministic, idempotent, and showing every feature."""

from __future__ import annotations

from datetime import timedelta

from memtui.demo import populate_demo
from memtui.domain.expiry import Urgency, urgency
from memtui.domain.models import MemoryQuery, SessionStatus
from memtui.store import SqlStore


def test_demo_shows_every_feature(sqlite_url: str, clock) -> None:
    store = SqlStore(sqlite_url, clock=clock)
    try:
        summary = populate_demo(store, now=clock.now)
        now = clock.now
        sessions = store.list_sessions()
        statuses = {s.id: s.effective_status(now) for s in sessions}
        left = {s.id: s.time_left(now) for s in sessions}

        assert summary.agents >= 4 and summary.sessions == len(sessions) >= 8
        assert summary.memories >= 300
        assert set(statuses.values()) == {
            SessionStatus.ACTIVE,
            SessionStatus.EXPIRED,
            SessionStatus.CLOSED,
        }
        assert left["sess_demo_ticket_4821"] == timedelta(minutes=7)
        assert left["sess_demo_auth_refactor"] == timedelta(minutes=45)
        assert urgency(store.get_session("sess_demo_ticket_4821"), now) == Urgency.VERY_SOON
        assert any(v is None for v in left.values())  # a session that never expires

        types = store.list_memory_types()
        assert {"episodic", "decision", "entity", "session", "observation"} <= set(types)
        for memory_type in types:
            assert store.count_memories(MemoryQuery(memory_types=(memory_type,))) > 0
        assert store.count_memories(MemoryQuery(event_types=("error",))) >= 10
        page = store.list_memories(MemoryQuery(limit=500)).memories
        assert any(m.parent_id for m in page) and any(m.tags for m in page)
        assert all(m.time <= now for m in page)

        plan = store.get_working_memory("sess_demo_auth_refactor", "plan").value
        assert isinstance(plan["steps"], list) and isinstance(plan["steps"][0], dict)
        snapshots = store.list_snapshots("sess_demo_auth_refactor")
        assert len(snapshots) == 2 and snapshots[0].open_tasks and snapshots[0].files_modified
        briefing = store.briefing()
        assert briefing.open_threads and briefing.expiring_soon
    finally:
        store.close()


def test_demo_twice_duplicates_nothing(sqlite_url: str, clock) -> None:
    store = SqlStore(sqlite_url, clock=clock)
    try:
        first = populate_demo(store, now=clock.now)
        cursor = store.latest_change_id()
        clock.advance(minutes=5)
        second = populate_demo(store, now=clock.now)
        assert first.created_anything and not second.created_anything
        assert (second.sessions, second.memories, second.snapshots) == (
            first.sessions,
            first.memories,
            first.snapshots,
        )
        assert second.working_memory_items == first.working_memory_items
        assert store.changes_since(cursor) == []
    finally:
        store.close()


def test_demo_is_deterministic(tmp_path, clock) -> None:
    def contents(name: str) -> list[tuple]:
        store = SqlStore(f"sqlite:///{tmp_path / name}", clock=clock)
        try:
            populate_demo(store, now=clock.now, seed=7)
            page = store.list_memories(MemoryQuery(limit=1000, order="asc")).memories
            return [(m.id, m.time, m.content, m.tags, m.importance, m.parent_id) for m in page]
        finally:
            store.close()

    assert contents("a.db") == contents("b.db")
