"""The official Memtrace Python client (memtrace-sdk), unchanged, against
`memtui serve`: every call it offers works, and its strict models accept our answers."""

from __future__ import annotations

from typing import Any

import pytest
from memtrace import AsyncMemtrace, Memtrace
from memtrace.exceptions import AuthenticationError, ConflictError, NotFoundError
from memtrace.models import (
    AddMemoryRequest,
    ContextOptions,
    CreateSessionRequest,
    ListOptions,
    RegisterAgentRequest,
    SearchQuery,
)


def test_the_sync_client_works_unchanged(server: Any) -> None:
    with Memtrace(server.url, server.api_key) as client:
        agent = client.register_agent(RegisterAgentRequest(name="sdk_agent", description="d"))
        with pytest.raises(ConflictError):
            client.register_agent(RegisterAgentRequest(name="sdk_agent"))
        assert client.get_agent(agent.id).name == "sdk_agent"
        assert "sdk_agent" in {a.name for a in client.list_agents().agents}

        session = client.create_session(
            CreateSessionRequest(agent_id=agent.id, metadata={"task": "sdk"})
        )
        assert client.get_session(session.id).metadata == {"task": "sdk"}

        client.remember(agent.id, "User prefers dark mode")
        client.decide(agent.id, "Ship on Friday", "tests are green")
        stored = client.add_memories(
            [
                AddMemoryRequest(
                    agent_id=agent.id,
                    session_id=session.id,
                    memory_type="episodic",
                    event_type="tool_call",
                    content=f"step {i}",
                    tags=["sdk"],
                    importance=0.5,
                )
                for i in range(3)
            ]
        )
        assert [m.content for m in stored] == ["step 0", "step 1", "step 2"]

        recalled = client.recall(agent.id)
        assert recalled.count == 5 and recalled.has_more is False
        listed = client.list_memories(ListOptions(agent_id=agent.id, tags="sdk", limit=2))
        assert listed.count == 2 and listed.has_more is True
        found = client.search_memories(SearchQuery(agent_id=agent.id, content_contains="dark"))
        assert [m.content for m in found.results] == ["User prefers dark mode"]
        decisions = client.get_agent_memories(agent.id, ListOptions(memory_type="decision"))
        assert decisions.memories[0].metadata == {"reasoning": "tests are green"}

        session_memories = client.get_session_memories(session.id)
        assert session_memories.count == 3
        context = client.get_session_context(
            session.id, ContextOptions(max_tokens=2000, include_types=["episodic"], since="4h")
        )
        assert context.context.startswith(f"## Session Context ({session.id})")
        assert context.memory_count == 3

        stats = client.get_agent_stats(agent.id)
        assert stats.memory_count == 5 and stats.active_sessions == 1
        assert [s.id for s in client.list_sessions(agent.id).sessions] == [session.id]
        closed = client.close_session(session.id)
        assert closed.status == "closed" and closed.closed_at is not None

        with pytest.raises(NotFoundError):
            client.get_session("sess_missing")
        client.delete_agent(agent.id)
        with pytest.raises(NotFoundError):
            client.get_agent(agent.id)

    with Memtrace(server.url, "mtk_not_a_key") as client, pytest.raises(AuthenticationError):
        client.list_agents()


async def test_the_async_client_works_unchanged(server: Any) -> None:
    async with AsyncMemtrace(server.url, server.api_key) as client:
        session = await client.create_session(CreateSessionRequest(agent_id="sdk_async"))
        await client.remember("sdk_async", "async hello")
        memories = await client.recall("sdk_async")
        assert [m.content for m in memories.memories] == ["async hello"]
        context = await client.get_session_context(session.id)
        assert context.session_id == session.id
