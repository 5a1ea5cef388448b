"""The contract for expiry, context and briefing, written so that it needs no test clock
and nothing but the capability under test: it runs on every kind, a real MemoryLayer
server (which keeps its own time and has no session-linked memories) included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.errors import NotFoundError
from memtui.domain.models import ContextRequest, NewMemory
from memtui.domain.tokens import count_tokens
from tests.helpers.requirements import Capability, requires

# Contents with no words in common: a server that merges near-duplicates keeps them all.
FACTS = (
    ("the login form posts to /auth", 0.3),
    ("JWT secrets rotate every Monday", 0.9),
    ("refresh tokens expired too early", 0.6),
    ("nginx terminates TLS upstream", 0.4),
)


@requires(Capability.EXPIRY)
def test_extend_adds_to_what_is_left(backend: Backend) -> None:
    session = backend.create_session("timer", ttl=timedelta(hours=1))
    assert session.expires_at is not None

    extended = backend.extend_session(session.id, timedelta(hours=6))

    assert extended.expires_at is not None
    # What was left (about 1 h) plus 6 h: the expiry moved by 6 h.
    assert abs(extended.expires_at - session.expires_at - timedelta(hours=6)) < timedelta(seconds=5)
    assert backend.get_session(session.id).expires_at == extended.expires_at
    with pytest.raises(NotFoundError):
        backend.extend_session("sess_nope", timedelta(hours=1))


@requires(Capability.CONTEXT_BUDGET)
def test_context_holds_the_sessions_memories_within_an_exact_budget(backend: Backend) -> None:
    session = backend.create_session("coder")
    backend.add_memories(
        [
            NewMemory(agent_id="coder", session_id=session.id, content=text, importance=imp)
            for text, imp in FACTS
        ]
    )

    full = backend.build_context(session.id, ContextRequest())
    assert full.context.startswith(f"## Session Context ({session.id})")
    assert all(text in full.context for text, _ in FACTS)
    assert full.token_count == count_tokens(full.context, full.encoding)
    assert not full.truncated

    small = backend.build_context(session.id, ContextRequest(max_tokens=full.token_count - 1))
    assert small.token_count <= full.token_count - 1
    assert count_tokens(small.context, small.encoding) == small.token_count
    assert small.truncated and small.omitted_count >= 1
    assert "JWT secrets rotate every Monday" in small.context  # the most important stays
    with pytest.raises(NotFoundError, match="sess_nope"):
        backend.build_context("sess_nope", ContextRequest())


@requires(Capability.BRIEFING)
def test_briefing_lists_recent_activity_and_active_sessions(backend: Backend) -> None:
    session = backend.create_session("ops")
    backend.add_memories([NewMemory(agent_id="ops", content="deployed release two")])
    backend.create_session("elsewhere")

    briefing = backend.briefing(agent_id="ops", lookback=timedelta(hours=1))

    assert [m.content for m in briefing.recent_activity] == ["deployed release two"]
    assert [s.id for s in briefing.active_sessions] == [session.id]
    assert briefing.expiring_soon == []  # six hours left
