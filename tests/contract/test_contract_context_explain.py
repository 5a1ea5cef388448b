"""explain_context through the protocol: every backend explains exactly the context its
build_context makes (reasons, section tokens adding up, the budget raise)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memtui.backend import Backend
from memtui.domain.context import ContextExplanation, Reason
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import ContextRequest, NewMemory


@pytest.fixture
def session_id(backend: Backend, clock) -> str:
    session = backend.create_session("coder")
    backend.add_memories(
        [
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="read the auth module and the session store, twice over",
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
            NewMemory(
                agent_id="coder",
                session_id=session.id,
                content="the user prefers tabs",
                memory_type="entity",
                importance=0.2,
                time=clock.now - timedelta(minutes=5),
            ),
            NewMemory(agent_id="coder", content="another session's memory"),
        ]
    )
    return session.id


def _adds_up(explanation: ContextExplanation) -> None:
    total = explanation.header_tokens + sum(s.tokens for s in explanation.sections)
    assert total == explanation.token_count
    assert sum(s.memory_count for s in explanation.sections) == explanation.memory_count


def _reasons(explanation: ContextExplanation) -> dict[str, str]:
    return {c.content: c.reason for c in explanation.candidates}


def test_without_a_budget_everything_in_the_window_is_in(backend: Backend, session_id: str) -> None:
    explanation = backend.explain_context(session_id, ContextRequest())
    built = backend.build_context(session_id, ContextRequest())

    assert explanation.token_count == built.token_count
    assert explanation.memory_count == built.memory_count == 4
    assert "another session's memory" not in _reasons(explanation)
    assert set(_reasons(explanation).values()) == {Reason.INCLUDED}
    assert [s.heading for s in explanation.sections] == [
        "Recent Actions",
        "Decisions",
        "Entities",
        "Errors",
    ]
    _adds_up(explanation)
    assert explanation.next_raise is None and explanation.all_raise is None


def test_window_and_type_reasons(backend: Backend, session_id: str) -> None:
    explanation = backend.explain_context(
        session_id, ContextRequest(since="1h", exclude_types=("entity",))
    )
    reasons = _reasons(explanation)
    assert reasons["read the auth module and the session store, twice over"] == "before_window"
    assert reasons["the user prefers tabs"] == "type_excluded"
    assert reasons["use JWT with short expiry"] == "included"
    _adds_up(explanation)

    only = backend.explain_context(session_id, ContextRequest(include_types=("decision",)))
    assert _reasons(only)["token refresh failed"] == "type_not_included"
    assert only.memory_count == 1
    old = next(c for c in explanation.candidates if c.reason == "before_window")
    assert "older than the window's start" in old.detail and old.tokens is None


def test_budget_reasons_and_the_raise(backend: Backend, session_id: str) -> None:
    full = backend.build_context(session_id, ContextRequest())
    budget = full.token_count - 12
    request = ContextRequest(max_tokens=budget)
    explanation = backend.explain_context(session_id, request)
    built = backend.build_context(session_id, request)

    assert explanation.token_count == built.token_count
    assert explanation.memory_count == built.memory_count
    for candidate in explanation.candidates:
        assert (candidate.content in built.context) == candidate.included
        if not candidate.included:
            assert candidate.reason in (Reason.DID_NOT_FIT, Reason.NOT_REACHED)
            assert candidate.tokens and candidate.tokens > 0
    _adds_up(explanation)

    raised = explanation.next_raise
    assert raised is not None and raised.tokens > 0 and raised.memories >= 1
    assert raised.max_tokens == budget + raised.tokens
    first_out = next(c for c in explanation.candidates if not c.included)
    at_raise = backend.build_context(session_id, ContextRequest(max_tokens=raised.max_tokens))
    assert first_out.content in at_raise.context
    below = backend.build_context(session_id, ContextRequest(max_tokens=raised.max_tokens - 1))
    assert first_out.content not in below.context  # the least raise, not just a raise
    assert explanation.all_raise is not None
    everything = backend.build_context(
        session_id, ContextRequest(max_tokens=explanation.all_raise.max_tokens)
    )
    assert everything.memory_count == 4


def test_memories_of_one_time_follow_insertion_order(backend: Backend, clock) -> None:
    session = backend.create_session("batcher")
    at = clock.now - timedelta(minutes=1)
    backend.add_memories(
        [
            NewMemory(agent_id="batcher", session_id=session.id, content=f"step {n}", time=at)
            for n in (9, 3, 7, 1, 5)  # ids grow in this order; content does not
        ]
    )
    request = ContextRequest(max_tokens=25)
    explanation = backend.explain_context(session.id, request)
    built = backend.build_context(session.id, request)
    kept = {c.content for c in explanation.candidates if c.included}
    assert kept == {line[2:] for line in built.context.splitlines() if line.startswith("- ")}
    assert explanation.token_count == built.token_count


def test_round_trips_hostile_text_exactly(backend: Backend) -> None:
    session = backend.create_session("coder")
    content = "\x1b[31mred\x1b[0m [bold]x[/bold] \u202eevil\n- fake bullet"
    backend.add_memories([NewMemory(agent_id="coder", session_id=session.id, content=content)])
    explanation = backend.explain_context(session.id, ContextRequest())
    assert explanation.candidates[0].content == content
    assert explanation.sections[0].memory_count == 1


def test_unknown_session_and_bad_values(backend: Backend, session_id: str) -> None:
    with pytest.raises(NotFoundError, match="sess_nope"):
        backend.explain_context("sess_nope", ContextRequest())
    with pytest.raises(InvalidInputError, match="yesterday-ish"):
        backend.explain_context(session_id, ContextRequest(since="yesterday-ish"))
    with pytest.raises(InvalidInputError, match="unicorns"):
        backend.explain_context(session_id, ContextRequest(include_types=("unicorns",)))
