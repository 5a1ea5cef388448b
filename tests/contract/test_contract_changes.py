"""The change feed: every write appears once, in order; a cursor resumes."""

from __future__ import annotations

import pytest

from memtui.backend import Backend
from memtui.domain.errors import VersionConflictError
from memtui.domain.models import MemoryPatch, NewMemory, NewSnapshot
from tests.helpers.requirements import Capability, requires

pytestmark = requires(Capability.EVENTS)


def test_every_write_appears_once_in_order(backend: Backend) -> None:
    start = backend.latest_change_id()

    session = backend.create_session("writer")  # agent.created, session.created
    memories = backend.add_memories(
        [NewMemory(agent_id="writer", content=f"m{i}", session_id=session.id) for i in range(3)]
    )
    backend.update_memory(memories[0].id, MemoryPatch(content="edited"))
    backend.delete_memories([memories[1].id])
    backend.set_working_memory(session.id, "k", 1)
    snapshot = backend.create_snapshot(session.id, NewSnapshot())
    backend.extend_session(session.id)
    backend.delete_session(session.id)

    changes = backend.changes_since(start)

    assert [(c.kind, c.entity_id) for c in changes] == [
        ("agent.created", "writer"),
        ("session.created", session.id),
        *[("memory.created", m.id) for m in memories],
        ("memory.updated", memories[0].id),
        ("memory.deleted", memories[1].id),
        ("working_memory.changed", "k"),
        ("snapshot.created", snapshot.id),
        ("session.updated", session.id),
        ("session.deleted", session.id),
    ]
    ids = [c.id for c in changes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert changes[2].data is not None and changes[2].data["content"] == "m0"
    assert changes[2].session_id == session.id and changes[2].agent_id == "writer"
    assert backend.latest_change_id() == ids[-1]


def test_a_reader_resumes_from_its_cursor(backend: Backend) -> None:
    cursor = backend.latest_change_id()
    backend.add_memories([NewMemory(agent_id="a", content=f"m{i}") for i in range(5)])

    first = backend.changes_since(cursor, limit=2)
    rest = backend.changes_since(first[-1].id)
    backend.add_memories([NewMemory(agent_id="a", content="late")])
    later = backend.changes_since(rest[-1].id)

    contents = [c.data["content"] for c in first + rest + later if c.kind == "memory.created"]
    assert contents == ["m0", "m1", "m2", "m3", "m4", "late"]
    assert backend.changes_since(later[-1].id) == []


def test_failed_writes_leave_no_change(backend: Backend) -> None:
    session = backend.create_session("a")
    backend.set_working_memory(session.id, "k", 1)
    cursor = backend.latest_change_id()
    with pytest.raises(VersionConflictError):
        backend.set_working_memory(session.id, "k", 2, expected_version=5)
    assert backend.changes_since(cursor) == []
