"""build_context through the protocol: the basics every backend must get right (the
engine's format and budget are tested in the domain tests)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import ContextRequest, NewMemory
from tests.helpers.requirements import Capability, requires

pytestmark = requires(
    Capability.SESSION_MEMORIES, Capability.MEMORY_TIME, Capability.CUSTOM_MEMORY_TYPES
)


@pytest.fixture
def session_id(backend: Backend, clock) -> str:
    session = backend.create_session("coder")
    backend.add_memories(
        [
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="read the auth module",
                time=clock.now - timedelta(hours=3),
            ),
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="use JWT with short expiry",
                memory_type="decision",
                importance=0.9,
                time=clock.now - timedelta(minutes=30),
            ),
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="token refresh failed",
                event_type="error",
                time=clock.now - timedelta(minutes=10),
            ),
            NewMemory(agent_id="coder", content="another session's memory"),
        ]
    )
    return session.id


def test_context_groups_the_sessions_memories(backend: Backend, session_id: str) -> None:
    result = backend.build_context(session_id, ContextRequest())

    assert result.context.startswith(f"## Session Context ({session_id})")
    assert "read the auth module" in result.context
    assert "use JWT with short expiry" in result.context
    assert "token refresh failed" in result.context
    assert "another session's memory" not in result.context
    assert result.memory_count == 3 and not result.truncated
    assert result.token_count > 0


def test_since_and_types_filter(backend: Backend, session_id: str) -> None:
    recent = backend.build_context(session_id, ContextRequest(since="1h"))
    assert "read the auth module" not in recent.context
    assert recent.memory_count == 2

    decisions = backend.build_context(session_id, ContextRequest(include_types=("decision",)))
    assert decisions.memory_count == 1 and "use JWT" in decisions.context


def test_max_tokens_is_honoured(backend: Backend, session_id: str) -> None:
    full = backend.build_context(session_id, ContextRequest())
    small = backend.build_context(session_id, ContextRequest(max_tokens=full.token_count - 1))
    assert small.token_count <= full.token_count - 1
    assert small.truncated and small.omitted_count >= 1
    # The most important memory survives the cut.
    assert "use JWT with short expiry" in small.context


def test_unknown_session_and_bad_values(backend: Backend, session_id: str) -> None:
    with pytest.raises(NotFoundError, match="sess_nope"):
        backend.build_context("sess_nope", ContextRequest())
    with pytest.raises(InvalidInputError, match="yesterday-ish"):
        backend.build_context(session_id, ContextRequest(since="yesterday-ish"))
    with pytest.raises(InvalidInputError, match="unicorns"):
        backend.build_context(session_id, ContextRequest(include_types=("unicorns",)))
