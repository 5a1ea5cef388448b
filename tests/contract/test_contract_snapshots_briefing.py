"""Snapshots and the briefing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import NewMemory, NewSnapshot
from tests.helpers.requirements import Capability, requires

pytestmark = requires(Capability.SNAPSHOTS)


def test_snapshots_newest_first_get_and_latest(backend: Backend, clock) -> None:
    session = backend.create_session("coder")
    first = backend.create_snapshot(
        session.id,
        NewSnapshot(
            event="checkpoint",
            project_path="/src/app",
            files_modified=["a.py"],
            key_decisions=["use WAL"],
            open_tasks=["write tests"],
        ),
    )
    clock.advance(minutes=5)
    second = backend.create_snapshot(session.id, NewSnapshot(event="pre_compact"))

    assert [s.id for s in backend.list_snapshots(session.id)] == [second.id, first.id]
    assert backend.get_snapshot(first.id) == first
    assert first.files_modified == ["a.py"] and first.project_path == "/src/app"
    assert first.agent_id == session.agent_id and first.created_at == clock.now - timedelta(
        minutes=5
    )
    assert backend.latest_snapshot().id == second.id
    assert backend.latest_snapshot(agent_id="coder").id == second.id
    with pytest.raises(NotFoundError):
        backend.latest_snapshot(agent_id="nobody")


def test_snapshot_event_is_checked(backend: Backend) -> None:
    session = backend.create_session("coder")
    with pytest.raises(InvalidInputError, match="lunch_break"):
        backend.create_snapshot(session.id, NewSnapshot(event="lunch_break"))
    assert backend.list_snapshots(session.id) == []
    with pytest.raises(NotFoundError):
        backend.create_snapshot("sess_nope", NewSnapshot())


def test_briefing(backend: Backend, clock) -> None:
    soon = backend.create_session("coder", ttl=timedelta(minutes=20))
    later = backend.create_session("coder", ttl=timedelta(hours=5))
    closed = backend.create_session("coder")
    backend.close_session(closed.id)
    other = backend.create_session("other")
    backend.create_snapshot(later.id, NewSnapshot(open_tasks=["old task"]))
    clock.advance(minutes=1)
    backend.create_snapshot(later.id, NewSnapshot(open_tasks=["task A", "task B"]))
    backend.create_snapshot(other.id, NewSnapshot(open_tasks=["other task"]))
    backend.add_memories(
        [
            NewMemory(agent_id="coder", content="stale", time=clock.now - timedelta(hours=30)),
            NewMemory(agent_id="coder", content="fresh", time=clock.now - timedelta(hours=1)),
            NewMemory(agent_id="coder", content="newest"),
            NewMemory(agent_id="other", content="not coder"),
        ]
    )

    briefing = backend.briefing(agent_id="coder", lookback=timedelta(hours=24))

    assert [m.content for m in briefing.recent_activity] == ["newest", "fresh"]
    assert [t.task for t in briefing.open_threads] == ["task A", "task B"]
    assert all(t.session_id == later.id for t in briefing.open_threads)
    assert {s.id for s in briefing.active_sessions} == {soon.id, later.id}
    assert [s.id for s in briefing.expiring_soon] == [soon.id]

    everyone = backend.briefing()
    assert {t.task for t in everyone.open_threads} == {"task A", "task B", "other task"}
    assert len(everyone.recent_activity) == 3
