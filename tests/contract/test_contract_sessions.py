"""Sessions through their whole lifecycle, with expiry against the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import ConflictError, InvalidInputError, NotFoundError
from memtui.domain.models import NewMemory, NewSnapshot, SessionStatus
from tests.helpers.requirements import TEST_CLOCK, Capability, requires


@requires(TEST_CLOCK)
def test_create_session_defaults_to_six_hours_and_registers_the_agent(
    backend: Backend, clock
) -> None:
    session = backend.create_session("researcher", metadata={"task": "survey"})

    assert session.id.startswith("sess_")
    assert session.agent_id == backend.get_agent("researcher").id
    assert session.status == "active"
    assert session.created_at == clock.now
    assert session.expires_at == clock.now + timedelta(hours=6)
    assert session.metadata == {"task": "survey"}
    assert backend.get_session(session.id) == session


@requires(TEST_CLOCK)
def test_session_that_never_expires(backend: Backend, clock) -> None:
    session = backend.create_session("a", ttl=None)
    clock.advance(days=400)
    again = backend.get_session(session.id)
    assert again.expires_at is None
    assert again.effective_status(backend.now()) == SessionStatus.ACTIVE


def test_client_chosen_session_id_conflicts_when_taken(backend: Backend) -> None:
    backend.create_session("a", session_id="sess_mine", workspace_id="ws1")
    assert backend.get_session("sess_mine").workspace_id == "ws1"
    with pytest.raises(ConflictError):
        backend.create_session("a", session_id="sess_mine")


@requires(TEST_CLOCK)
def test_expiry_is_computed_from_the_clock(backend: Backend, clock) -> None:
    session = backend.create_session("a", ttl=timedelta(hours=1))
    assert [s.id for s in backend.list_sessions(status="active")] == [session.id]

    clock.advance(minutes=61)

    assert backend.list_sessions(status="active") == []
    assert [s.id for s in backend.list_sessions(status="expired")] == [session.id]
    stored = backend.get_session(session.id)
    assert stored.effective_status(backend.now()) == SessionStatus.EXPIRED


@requires(TEST_CLOCK)
def test_extend_adds_to_the_current_expiry(backend: Backend, clock) -> None:
    session = backend.create_session("a", ttl=timedelta(hours=6))
    clock.advance(hours=5)  # 1 h left

    extended = backend.extend_session(session.id, timedelta(hours=6))

    assert extended.expires_at - backend.now() == timedelta(hours=7)
    assert backend.get_session(session.id).expires_at == extended.expires_at


@requires(TEST_CLOCK)
def test_extending_an_expired_session_counts_from_now(backend: Backend, clock) -> None:
    session = backend.create_session("a", ttl=timedelta(minutes=10))
    clock.advance(hours=2)
    extended = backend.extend_session(session.id, timedelta(hours=1))
    assert extended.expires_at == backend.now() + timedelta(hours=1)
    assert extended.effective_status(backend.now()) == SessionStatus.ACTIVE


@requires(TEST_CLOCK, Capability.SESSION_CLOSE)
def test_close_sets_closed_at_and_reopen_clears_it(backend: Backend, clock) -> None:
    session = backend.create_session("a")
    clock.advance(minutes=3)

    closed = backend.close_session(session.id)
    assert closed.status == "closed"
    assert closed.closed_at == clock.now
    assert [s.id for s in backend.list_sessions(status="closed")] == [session.id]

    reopened = backend.update_session(session.id, status="active", metadata={"n": 2})
    assert reopened.status == "active"
    assert reopened.closed_at is None
    assert reopened.metadata == {"n": 2}


@requires(TEST_CLOCK)
def test_list_sessions_newest_first_filtered_by_agent(backend: Backend, clock) -> None:
    first = backend.create_session("a")
    clock.advance(minutes=1)
    second = backend.create_session("b")
    clock.advance(minutes=1)
    third = backend.create_session("a")

    assert [s.id for s in backend.list_sessions()] == [third.id, second.id, first.id]
    assert [s.id for s in backend.list_sessions(agent_id="a")] == [third.id, first.id]
    assert [s.id for s in backend.list_sessions(limit=1)] == [third.id]


@requires(Capability.SNAPSHOTS, Capability.SESSION_MEMORIES)
def test_delete_session_removes_working_memory_and_snapshots_but_keeps_memories(
    backend: Backend,
) -> None:
    session = backend.create_session("a")
    backend.set_working_memory(session.id, "k", {"v": 1})
    snapshot = backend.create_snapshot(session.id, NewSnapshot(open_tasks=["x"]))
    [memory] = backend.add_memories(
        [NewMemory(agent_id="a", content="kept", session_id=session.id)]
    )

    backend.delete_session(session.id)

    with pytest.raises(NotFoundError):
        backend.get_session(session.id)
    with pytest.raises(NotFoundError):
        backend.get_snapshot(snapshot.id)
    with pytest.raises(NotFoundError):
        backend.list_working_memory(session.id)
    assert backend.get_memory(memory.id).content == "kept"


def test_unknown_session_and_bad_values(backend: Backend) -> None:
    with pytest.raises(NotFoundError, match="sess_nope"):
        backend.get_session("sess_nope")
    with pytest.raises(NotFoundError):
        backend.extend_session("sess_nope")
    session = backend.create_session("a")
    with pytest.raises(InvalidInputError, match="expired"):
        backend.update_session(session.id, status="expired")
    with pytest.raises(InvalidInputError, match="bogus"):
        backend.list_sessions(status="bogus")
    with pytest.raises(InvalidInputError, match="ttl"):
        backend.create_session("a", ttl=timedelta(0))
