"""History and trash through the protocol, on every backend: revisions with their
actor and before/after, deletes that go to a trash and come back as they were, purge.
The actor over HTTP is the API key's name (tests/server checks that); here the client
side names itself."""

from __future__ import annotations

import pytest

from memtui.backend import Backend
from memtui.domain.actor import acting_as
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.history import HistoryTarget
from memtui.domain.models import (
    ContextRequest,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
)


def _actor_of(backend_kind: str, local: str) -> str:
    # Over HTTP the server attributes writes to the API key's name.
    return "tests" if backend_kind == "http" else local


def test_memory_history_has_every_revision_with_actor(
    backend: Backend, backend_kind: str, clock
) -> None:
    session = backend.create_session("coder")
    with acting_as("tui"):
        [memory] = backend.add_memories(
            [NewMemory(agent_id="coder", session_id=session.id, content="use long expiry")]
        )
    clock.advance(minutes=1)
    with acting_as("mcp:claude"):
        backend.update_memory(memory.id, MemoryPatch(content="use short expiry", tags=["auth"]))
    clock.advance(minutes=1)
    backend.delete_memories([memory.id])

    revisions = backend.history(HistoryTarget.memory(memory.id))
    assert [r.action for r in revisions] == ["created", "updated", "deleted"]
    assert [r.actor for r in revisions] == [
        _actor_of(backend_kind, "tui"),
        _actor_of(backend_kind, "mcp:claude"),
        _actor_of(backend_kind, "cli"),
    ]
    created, updated, deleted = revisions
    assert created.before is None and created.after["content"] == "use long expiry"
    assert updated.before["content"] == "use long expiry"
    assert updated.after["content"] == "use short expiry" and updated.after["tags"] == ["auth"]
    assert deleted.before["content"] == "use short expiry" and deleted.after is None
    assert created.at < updated.at < deleted.at
    assert backend.history(HistoryTarget.memory("mem_never")) == []


def test_key_and_session_history(backend: Backend, clock) -> None:
    session = backend.create_session("coder")
    backend.set_working_memory(session.id, "plan", ["read"])
    backend.set_working_memory(session.id, "plan", ["read", "write"])
    backend.rename_working_memory(session.id, "plan", "steps")
    backend.delete_working_memory(session.id, "steps")
    plan = backend.history(HistoryTarget.key(session.id, "plan"))
    assert [r.action for r in plan] == ["created", "updated", "renamed_to"]
    assert plan[1].before["value"] == ["read"] and plan[1].after["value"] == ["read", "write"]
    steps = backend.history(HistoryTarget.key(session.id, "steps"))
    assert [r.action for r in steps] == ["renamed_from", "deleted"]

    backend.update_session(session.id, metadata={"task": "auth"})
    backend.close_session(session.id)
    actions = [r.action for r in backend.history(HistoryTarget.session(session.id))]
    assert actions[0] == "created" and actions.count("updated") >= 2


def test_a_deleted_memory_is_gone_everywhere_and_restores_as_it_was(
    backend: Backend, clock
) -> None:
    session = backend.create_session("coder")
    [parent, memory] = backend.add_memories(
        [
            NewMemory(agent_id="coder", session_id=session.id, content="parent"),
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="child \x1b[31m [b]x[/b]",
                tags=["a", "b"],
                importance=0.8,
                metadata={"k": [1, {"n": None}]},
                memory_type="decision",
            ),
        ]
    )
    backend.update_memory(memory.id, MemoryPatch(tags=["a", "b"]))
    stored = backend.get_memory(memory.id)
    backend.delete_memories([memory.id])

    with pytest.raises(NotFoundError):
        backend.get_memory(memory.id)
    assert memory.id not in {
        m.id for m in backend.list_memories(MemoryQuery(session_id=session.id)).memories
    }
    assert "child" not in backend.build_context(session.id, ContextRequest()).context
    assert memory.id not in {
        c.id for c in backend.explain_context(session.id, ContextRequest()).candidates
    }

    [item] = backend.list_trash()
    assert item.entity == "memory" and item.entity_id == memory.id
    assert item.data["content"] == "child \x1b[31m [b]x[/b]"
    restored = backend.restore_from_trash(item.id)
    assert restored.id == item.id
    assert backend.get_memory(memory.id) == stored
    assert backend.list_trash() == []
    with pytest.raises(NotFoundError):
        backend.restore_from_trash(item.id)
    assert backend.history(HistoryTarget.memory(memory.id))[-1].action == "restored"
    assert parent.id != memory.id


def test_a_deleted_key_and_session_restore_with_versions_and_snapshots(
    backend: Backend, clock
) -> None:
    session = backend.create_session("coder", metadata={"task": "t"})
    backend.set_working_memory(session.id, "plan", {"step": 1})
    backend.set_working_memory(session.id, "plan", {"step": 2})  # version 2
    backend.set_working_memory(session.id, "note", "keep")
    backend.create_snapshot(session.id, NewSnapshot(key_decisions=["x"]))

    backend.delete_working_memory(session.id, "plan")
    [key_item] = backend.list_trash()
    assert key_item.entity == "working_memory" and key_item.entity_id == "plan"
    backend.restore_from_trash(key_item.id)
    item = backend.get_working_memory(session.id, "plan")
    assert item.version == 2 and item.value == {"step": 2}

    snapshots = backend.list_snapshots(session.id)
    wm = backend.list_working_memory(session.id)
    backend.delete_session(session.id)
    with pytest.raises(NotFoundError):
        backend.get_session(session.id)
    [session_item] = backend.list_trash()
    assert session_item.entity == "session"
    backend.restore_from_trash(session_item.id)
    again = backend.get_session(session.id)
    assert again.metadata == {"task": "t"}
    assert backend.list_working_memory(session.id) == wm
    assert backend.list_snapshots(session.id) == snapshots


def test_restore_refuses_a_taken_id_and_purge_forgets(backend: Backend, clock) -> None:
    session = backend.create_session("coder")
    backend.set_working_memory(session.id, "k", 1)
    backend.delete_working_memory(session.id, "k")
    backend.set_working_memory(session.id, "k", 2)  # made anew meanwhile
    [item] = backend.list_trash()
    with pytest.raises(ConflictError, match="exists again"):
        backend.restore_from_trash(item.id)

    [memory] = backend.add_memories([NewMemory(agent_id="coder", content="secret")])
    backend.delete_memories([memory.id])
    items = backend.list_trash()
    assert [i.entity for i in items] == ["memory", "working_memory"]  # newest first
    assert backend.purge_trash([items[0].id]) == 1
    assert backend.history(HistoryTarget.memory(memory.id)) == []  # its content went too
    assert backend.purge_trash(None) == 1
    assert backend.list_trash() == []
    clock.advance(seconds=1)
    assert backend.purge_trash([12345]) == 0


def test_a_session_whose_agent_was_deleted_is_not_restored(backend: Backend, clock) -> None:
    """Found by schemathesis: the restore failed on the agent's foreign key (an
    undocumented 409 saying 'FOREIGN KEY constraint failed')."""
    agent = backend.create_agent("short-lived")
    session = backend.create_session(agent.id)
    backend.delete_agent(agent.id)
    item = next(i for i in backend.list_trash() if i.entity_id == session.id)
    with pytest.raises(ConflictError, match="agent .* was deleted"):
        backend.restore_from_trash(item.id)
