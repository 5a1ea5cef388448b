"""max_tokens is honoured exactly, and the most important memories are the ones kept.

The property test checks the engine against a slow reference that follows the documented
rule literally, counting every candidate markdown in full with tiktoken.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memtui.domain.context import (
    MAX_CONSECUTIVE_MISSES,
    NOTHING_FITS_LINE,
    header_line,
    render_context,
    sort_by_priority,
)
from memtui.domain.models import ENCODINGS, ContextRequest, Memory
from memtui.domain.tokens import count_tokens

BASE = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
SESSION = "sess_prop"
_TAG = re.compile(r"^- m(\d+)~", re.MULTILINE)


def memory(
    index: int,
    content: str,
    *,
    minutes: int = 0,
    importance: float | None = None,
    memory_type: str = "episodic",
    event_type: str = "general",
) -> Memory:
    return Memory(
        id=f"mem_{index:04d}",
        time=BASE + timedelta(minutes=minutes),
        agent_id="agent",
        session_id=SESSION,
        content=f"m{index}~{content}",  # a tag, to see which memories were kept
        memory_type=memory_type,
        event_type=event_type,
        importance=importance,
    )


def kept_indices(context: str) -> set[int]:
    return {int(found) for found in _TAG.findall(context)}


def reference_selection(
    memories: Sequence[Memory], max_tokens: int, encoding: str, order: str
) -> list[Memory]:
    """The documented rule, literally: priority order; include what fits; stop when fewer
    than 2 tokens are left or after MAX_CONSECUTIVE_MISSES misses in a row."""

    def cost(chosen: list[Memory]) -> int:
        if not chosen:
            return count_tokens(header_line(SESSION) + "\n\n", encoding)
        request = ContextRequest(order=order, encoding=encoding)
        return count_tokens(render_context(SESSION, chosen, request).context, encoding)

    priority = sorted(
        memories,
        key=lambda m: (0.5 if m.importance is None else m.importance, m.time, m.id),
        reverse=True,
    )
    chosen: list[Memory] = []
    misses = 0
    for candidate in priority:
        if max_tokens - cost(chosen) < 2 or misses >= MAX_CONSECUTIVE_MISSES:
            break
        if cost([*chosen, candidate]) <= max_tokens:
            chosen.append(candidate)
            misses = 0
        else:
            misses += 1
    return chosen


# Content: arbitrary unicode (line breaks, marks, emoji…), prose-like ASCII with
# punctuation endings, and long text.
_PROSE = st.text(
    alphabet=st.sampled_from(list("abcdeXYZ 0189.,!?:;'\"()[]-_/#*`\n\t\r") + ["é", "—", "漢"]),
    max_size=80,
)
_CONTENT = st.one_of(
    st.text(max_size=60),
    _PROSE,
    st.text(min_size=150, max_size=500),
    st.sampled_from(["", " ", "\n", "ok.", "done!!", "x", "café.", "a\u0301", "1/2/"]),
)


@st.composite
def memory_lists(draw: st.DrawFn) -> list[Memory]:
    count = draw(st.integers(min_value=0, max_value=14))
    return [
        memory(
            index,
            draw(_CONTENT),
            minutes=draw(st.integers(min_value=0, max_value=5)),  # ties on time are common
            importance=draw(st.one_of(st.none(), st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]))),
            memory_type=draw(
                st.sampled_from(["episodic", "decision", "entity", "session", "tool_call", "x y"])
            ),
            event_type=draw(st.sampled_from(["general", "general", "error"])),
        )
        for index in range(count)
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    memories=memory_lists(),
    max_tokens=st.one_of(st.none(), st.integers(min_value=1, max_value=40), st.integers(1, 400)),
    encoding=st.sampled_from(ENCODINGS),
    order=st.sampled_from(["asc", "desc"]),
)
def test_budget_is_exact_and_keeps_the_highest_priority(
    memories: list[Memory], max_tokens: int | None, encoding: str, order: str
) -> None:
    request = ContextRequest(max_tokens=max_tokens, encoding=encoding, order=order)
    result = render_context(SESSION, memories, request)

    assert result.token_count == count_tokens(result.context, encoding)
    if max_tokens is not None:
        assert result.token_count <= max_tokens
    assert result.memory_count + result.omitted_count == len(memories)
    assert result.truncated == (result.omitted_count > 0 or result.context == "")
    kept = kept_indices(result.context)
    assert len(kept) == result.memory_count

    if max_tokens is None:
        assert kept == set(range(len(memories)))
        return
    expected = reference_selection(memories, max_tokens, encoding, order)
    assert kept == {int(m.content.split("~")[0][1:]) for m in expected}
    if expected:  # the kept memories are rendered exactly as without a budget
        unlimited = render_context(
            SESSION, expected, ContextRequest(encoding=encoding, order=order)
        )
        assert result.context == unlimited.context
    elif result.context:
        assert result.context.endswith(
            ("_No memories in this window._\n", NOTHING_FITS_LINE + "\n")
        )

    # A store that hands memories over already in priority order gets the same result.
    presorted = render_context(SESSION, sort_by_priority(memories), request, priority_ordered=True)
    assert presorted == result


def test_tiny_budget_returns_empty_context_with_zero_tokens() -> None:
    memories = [memory(0, "Crawled the pricing page")]
    header_cost = count_tokens(header_line(SESSION) + "\n\n" + NOTHING_FITS_LINE + "\n")
    for budget in (1, 2, header_cost - 1):
        result = render_context(SESSION, memories, ContextRequest(max_tokens=budget))
        assert (result.context, result.token_count, result.memory_count) == ("", 0, 0)
        assert (result.truncated, result.omitted_count) == (True, 1)
    result = render_context(SESSION, memories, ContextRequest(max_tokens=header_cost))
    assert result.context == f"## Session Context ({SESSION})\n\n{NOTHING_FITS_LINE}\n"
    assert result.token_count == header_cost


def test_a_huge_important_memory_does_not_crowd_out_the_rest() -> None:
    memories = [
        memory(0, "log dump " * 2000, importance=1.0, minutes=5),
        memory(1, "Decided to retry with backoff", importance=0.9, memory_type="decision"),
        memory(2, "Fetched page 2", importance=0.3),
    ]
    result = render_context(SESSION, memories, ContextRequest(max_tokens=200))
    assert kept_indices(result.context) == {1, 2}
    assert (result.omitted_count, result.truncated) == (1, True)


def test_scan_stops_after_consecutive_misses() -> None:
    giants = [
        memory(i, "word " * 500, importance=1.0, minutes=i) for i in range(MAX_CONSECUTIVE_MISSES)
    ]
    small = memory(99, "fits easily", importance=0.1)
    result = render_context(SESSION, [*giants, small], ContextRequest(max_tokens=300))
    assert result.memory_count == 0  # documented: the scan gave up before the small one
    fewer = render_context(SESSION, [*giants[1:], small], ContextRequest(max_tokens=300))
    assert kept_indices(fewer.context) == {99}


def test_importance_beats_recency_and_none_counts_as_half() -> None:
    memories = [
        memory(0, "old but vital", importance=0.95, minutes=0),
        memory(1, "recent trivia", importance=0.1, minutes=50),
        memory(2, "recent, no importance", importance=None, minutes=40),
        memory(3, "older, a bit less than half", importance=0.49, minutes=45),
    ]
    two = count_tokens(
        render_context(SESSION, memories[:1] + memories[2:3], ContextRequest()).context
    )
    result = render_context(SESSION, memories, ContextRequest(max_tokens=two))
    assert kept_indices(result.context) == {0, 2}


class RecordingSequence(Sequence[Memory]):
    """A lazy-looking sequence that records how far the engine read it."""

    def __init__(self, memories: list[Memory]) -> None:
        self.memories = memories
        self.read = 0

    def __len__(self) -> int:
        return len(self.memories)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self.memories[index]

    def __iter__(self) -> Iterator[Memory]:
        for item in self.memories:
            self.read += 1
            yield item


def test_priority_ordered_input_is_read_only_as_far_as_the_budget_needs() -> None:
    memories = sort_by_priority(
        memory(i, f"Visited page {i} and extracted 3 prices", minutes=i) for i in range(10_000)
    )
    lazy = RecordingSequence(memories)
    result = render_context(SESSION, lazy, ContextRequest(max_tokens=300), priority_ordered=True)
    assert result.omitted_count == 10_000 - result.memory_count
    assert 0 < result.memory_count < 40
    assert lazy.read <= result.memory_count + MAX_CONSECUTIVE_MISSES + 1
    assert result == render_context(SESSION, memories, ContextRequest(max_tokens=300))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_large_budget_equals_unlimited(encoding: str) -> None:
    memories = [
        memory(i, f"step {i}: ok.", minutes=i, memory_type=t)
        for i, t in enumerate(["episodic", "decision", "entity", "session", "tool_call"] * 4)
    ]
    unlimited = render_context(SESSION, memories, ContextRequest(encoding=encoding))
    exact = render_context(
        SESSION, memories, ContextRequest(encoding=encoding, max_tokens=unlimited.token_count)
    )
    assert exact.context == unlimited.context
    assert (exact.token_count, exact.truncated, exact.omitted_count) == (
        unlimited.token_count,
        False,
        0,
    )
    one_less = render_context(
        SESSION, memories, ContextRequest(encoding=encoding, max_tokens=unlimited.token_count - 1)
    )
    assert one_less.truncated and one_less.omitted_count >= 1
    assert one_less.token_count == count_tokens(one_less.context, encoding) < unlimited.token_count


# --- many memories: whole chunks are taken far from the budget's end -------------------

_SENTENCE_WORDS = [
    "crawled",
    "fetched",
    "the",
    "pricing",
    "page",
    "decided",
    "retry",
    "api",
    "é",
    "漢字",
    "42",
    "x",
]


@st.composite
def many_memories(draw: st.DrawFn) -> list[Memory]:
    count = draw(st.integers(min_value=20, max_value=60))
    memories = []
    for index in range(count):
        words = draw(st.lists(st.sampled_from(_SENTENCE_WORDS), min_size=1, max_size=25))
        ending = draw(st.sampled_from(["", ".", "!", "?!", " ~", ":", ")", "\n", "…", "^"]))
        text = " ".join(words) + ending
        if draw(st.booleans()):
            text = draw(_CONTENT)  # now and then anything at all
        memories.append(
            memory(
                index,
                text,
                minutes=draw(st.integers(min_value=0, max_value=30)),
                importance=draw(st.one_of(st.none(), st.sampled_from([0.1, 0.5, 0.8]))),
                memory_type=draw(st.sampled_from(["episodic", "decision", "entity", "session"])),
                event_type=draw(st.sampled_from(["general", "general", "general", "error"])),
            )
        )
    return memories


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    memories=many_memories(),
    max_tokens=st.integers(min_value=30, max_value=1500),
    encoding=st.sampled_from(ENCODINGS),
    order=st.sampled_from(["asc", "desc"]),
)
def test_chunked_selection_equals_one_by_one(
    memories: list[Memory], max_tokens: int, encoding: str, order: str
) -> None:
    request = ContextRequest(max_tokens=max_tokens, encoding=encoding, order=order)
    result = render_context(SESSION, memories, request)
    assert result.token_count == count_tokens(result.context, encoding) <= max_tokens
    expected = reference_selection(memories, max_tokens, encoding, order)
    assert kept_indices(result.context) == {int(m.content.split("~")[0][1:]) for m in expected}


@pytest.mark.parametrize(("max_tokens", "encoding"), [(2000, "cl100k_base"), (3000, "o200k_base")])
def test_realistic_session_equals_the_reference(max_tokens: int, encoding: str) -> None:
    import random

    rng = random.Random(max_tokens)
    words = [
        "agent",
        "crawled",
        "page",
        "extracted",
        "pricing",
        "data",
        "decided",
        "retry",
        "timeout",
        "user",
        "asked",
    ]
    memories = [
        memory(
            index,
            " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
            + rng.choice([".", "", "!", ":", ".\nNext step: retry."]),
            minutes=rng.randint(0, 600),
            importance=rng.choice([None, 0.2, 0.5, 0.7, 0.9]),
            memory_type=rng.choice(["episodic", "episodic", "decision", "entity", "session"]),
            event_type="error" if rng.random() < 0.05 else "general",
        )
        for index in range(300)
    ]
    request = ContextRequest(max_tokens=max_tokens, encoding=encoding)
    result = render_context(SESSION, memories, request)
    assert result.token_count == count_tokens(result.context, encoding) <= max_tokens
    assert max_tokens - result.token_count < 40  # the budget is used, not wasted
    expected = reference_selection(memories, max_tokens, encoding, "desc")
    assert kept_indices(result.context) == {int(m.content.split("~")[0][1:]) for m in expected}
