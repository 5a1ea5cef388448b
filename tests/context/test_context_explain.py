"""explain_context against the engine itself: over random sessions, requests and budgets,
the explanation is of exactly the context render_context builds, its parts add up, and
the raise it proposes is the least that takes in the next memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from memtui.domain.context import explain_context, render_context, validate_context_request
from memtui.domain.models import ContextRequest, Memory

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TYPES = ["episodic", "decision", "entity", "session", "tool_call"]
WORDS = ["alpha", "beta", "gamma.", "x!", "\n", "ü", "- no", "### h", "(2)", "  "]

memories = st.lists(
    st.builds(
        lambda n, minutes, words, memory_type, error, importance: (
            n,
            minutes,
            " ".join(words),
            memory_type,
            error,
            importance,
        ),
        st.integers(0, 10**6),
        st.integers(0, 600),
        st.lists(st.sampled_from(WORDS), max_size=25),
        st.sampled_from(TYPES),
        st.booleans(),
        st.sampled_from([None, 0.1, 0.5, 0.9]),
    ),
    max_size=30,
    unique_by=lambda item: item[0],
)


def _memories(items: list[tuple]) -> list[Memory]:
    built = [
        Memory(
            id=f"mem_{n:07d}",
            time=NOW - timedelta(minutes=minutes),
            agent_id="a",
            content=content,
            memory_type=memory_type,
            event_type="error" if error else "general",
            importance=importance,
        )
        for n, minutes, content, memory_type, error, importance in items
    ]
    # The backends' list order: newest first, then the latest inserted (here: the id).
    return sorted(built, key=lambda m: (m.time, m.id), reverse=True)


@settings(max_examples=150, deadline=None)
@given(
    items=memories,
    max_tokens=st.sampled_from([None, 1, 8, 20, 60, 150, 400]),
    since=st.sampled_from([None, "5h"]),
    exclude=st.sampled_from([(), ("entity",)]),
    include=st.sampled_from([(), ("decision", "episodic")]),
    order=st.sampled_from(["asc", "desc"]),
    encoding=st.sampled_from(["cl100k_base", "o200k_base"]),
)
def test_explains_exactly_the_engines_context(
    items, max_tokens, since, exclude, include, order, encoding
) -> None:
    request = ContextRequest(
        max_tokens=max_tokens,
        since=since,
        exclude_types=exclude,
        include_types=include,
        order=order,
        encoding=encoding,
    )
    window = validate_context_request(request, NOW, TYPES)
    session = _memories(items)
    explanation = explain_context("sess_x", session, request, window)
    in_window = [
        m
        for m in session
        if (window.since is None or m.time >= window.since)
        and m.memory_type not in window.exclude_types
        and (not window.include_types or m.memory_type in window.include_types)
    ]
    built = render_context("sess_x", in_window, request)

    assert explanation.token_count == built.token_count
    assert explanation.memory_count == built.memory_count
    parts = explanation.header_tokens + sum(s.tokens for s in explanation.sections)
    assert parts == built.token_count
    assert len(explanation.candidates) == len(session)
    outside = {m.id for m in session} - {m.id for m in in_window}
    for candidate in explanation.candidates:
        if candidate.id in outside:
            assert candidate.reason in ("before_window", "type_excluded", "type_not_included")
        elif not candidate.included:
            assert candidate.reason in ("did_not_fit", "not_reached")
    raised = explanation.next_raise
    if raised is None:
        assert max_tokens is None or explanation.memory_count == len(in_window)
        return
    first_out = next(c for c in explanation.candidates if not c.included)
    at = explain_context("sess_x", session, _with_budget(request, raised.max_tokens), window)
    assert next(c for c in at.candidates if c.id == first_out.id).included
    below = explain_context("sess_x", session, _with_budget(request, raised.max_tokens - 1), window)
    assert not next(c for c in below.candidates if c.id == first_out.id).included


def _with_budget(request: ContextRequest, max_tokens: int) -> ContextRequest:
    return replace(request, max_tokens=max_tokens)
