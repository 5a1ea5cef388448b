"""Agents: create, get by id or name, stats, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.models import NewMemory
from tests.helpers.requirements import TEST_CLOCK, Capability, requires


def test_create_get_list_and_conflict(backend: Backend) -> None:
    agent = backend.create_agent("planner", description="plans", config={"model": "x"})

    assert backend.get_agent(agent.id) == agent
    assert backend.get_agent("planner") == agent
    assert agent.config == {"model": "x"}
    assert [a.name for a in backend.list_agents()] == ["planner"]
    with pytest.raises(ConflictError, match="planner"):
        backend.create_agent("planner")


def test_ensure_agent_registers_once(backend: Backend) -> None:
    first = backend.ensure_agent("support-bot")
    second = backend.ensure_agent("support-bot")
    assert first == second
    assert first.id == first.name == "support-bot"
    assert len(backend.list_agents()) == 1


@requires(
    TEST_CLOCK, Capability.SESSION_CLOSE, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES
)
def test_agent_stats(backend: Backend, clock) -> None:
    backend.create_session("bot")
    closed = backend.create_session("bot")
    backend.close_session(closed.id)
    old = clock.now - timedelta(hours=30)
    backend.add_memories(
        [
            NewMemory(agent_id="bot", content="old", time=old),
            NewMemory(agent_id="bot", content="new", memory_type="decision"),
            NewMemory(agent_id="bot", content="boom", event_type="error"),
            NewMemory(agent_id="other", content="not mine"),
        ]
    )

    stats = backend.agent_stats("bot")

    assert stats.agent_id == "bot"
    assert stats.memory_count == 3
    assert stats.memories_24h == 2
    assert stats.errors_24h == 1
    assert stats.session_count == 2
    assert stats.active_sessions == 1
    assert stats.last_active_at == clock.now
    assert stats.memory_types == {"episodic": 2, "decision": 1}


def test_delete_agent(backend: Backend) -> None:
    session = backend.create_session("gone")
    backend.delete_agent("gone")
    with pytest.raises(NotFoundError):
        backend.get_agent("gone")
    with pytest.raises(NotFoundError):
        backend.get_session(session.id)
    with pytest.raises(NotFoundError):
        backend.agent_stats("gone")
