"""The seed 000 markdown format (golden files), section rules, and request validation."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from memtui.domain.context import (
    EMPTY_WINDOW_LINE,
    ContextWindow,
    render_context,
    type_heading,
    validate_context_request,
)
from memtui.domain.errors import InvalidInputError
from memtui.domain.models import MEMTRACE_MEMORY_TYPES, ContextRequest, Memory
from memtui.domain.tokens import count_tokens
from tests.conftest import FROZEN_NOW
from tests.context.seed_memories import BASE, SESSION_ID, seed_memories

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def shuffled(memories: list[Memory]) -> list[Memory]:
    copy = list(memories)
    random.Random(7).shuffle(copy)
    return copy


@pytest.mark.parametrize(("order", "name"), [("desc", "seed_desc.md"), ("asc", "seed_asc.md")])
def test_seed_format_golden(order: str, name: str) -> None:
    result = render_context(SESSION_ID, shuffled(seed_memories()), ContextRequest(order=order))
    assert result.context == golden(name)
    assert result.memory_count == 11
    assert result.token_count == count_tokens(result.context)
    assert (result.truncated, result.omitted_count, result.max_tokens) == (False, 0, None)
    assert result.encoding == "cl100k_base"
    assert result.session_id == SESSION_ID


def test_budget_keeps_the_most_important_golden() -> None:
    """Priority is importance desc (None = 0.5), then newest: d1 .9, r1 .8, d2 .7, e1 .6,
    s1 .5 (newest of the 0.5s)… With exactly the tokens of those five, nothing else fits."""
    expected = golden("seed_budget_top5.md")
    budget = count_tokens(expected)
    result = render_context(SESSION_ID, seed_memories(), ContextRequest(max_tokens=budget))
    assert result.context == expected
    assert result.token_count == budget
    assert (result.memory_count, result.omitted_count, result.truncated) == (5, 6, True)


def test_one_token_less_drops_the_fifth_but_still_fills_with_smaller_ones() -> None:
    budget = count_tokens(golden("seed_budget_top5.md")) - 1
    result = render_context(SESSION_ID, seed_memories(), ContextRequest(max_tokens=budget))
    assert "Research plan" not in result.context  # s1 no longer fits...
    assert "- Stored data in database\n" in result.context  # ...a shorter, later one does
    assert result.token_count <= budget
    assert result.token_count == count_tokens(result.context)
    assert result.memory_count + result.omitted_count == 11


def test_empty_window_golden() -> None:
    result = render_context("sess_empty", [], ContextRequest())
    assert result.context == golden("empty.md")
    assert EMPTY_WINDOW_LINE in result.context
    assert (result.memory_count, result.token_count) == (0, count_tokens(golden("empty.md")))
    assert render_context("sess_empty", [], ContextRequest(max_tokens=100)).context == golden(
        "empty.md"
    )


def test_errors_section_takes_error_events_of_any_type() -> None:
    decision_error = Memory(
        id="mem_x",
        time=BASE,
        agent_id="a",
        content="Could not decide: pricing API returned 500",
        memory_type="decision",
        event_type="error",
    )
    result = render_context("s", [decision_error], ContextRequest())
    assert result.context == (
        "## Session Context (s)\n\n### Errors (1)\n- Could not decide: pricing API returned 500\n"
    )


def test_other_types_follow_errors_alphabetically() -> None:
    memories = [
        Memory(id=f"m{index}", time=BASE, agent_id="a", content=memory_type, memory_type=t)
        for index, (memory_type, t) in enumerate(
            [("z", "zeta_type"), ("a", "api_call"), ("e", "episodic"), ("w", "web-page")]
        )
    ]
    headings = [
        line
        for line in render_context("s", memories, ContextRequest()).context.splitlines()
        if line.startswith("###")
    ]
    assert headings == [
        "### Recent Actions (1)",
        "### Api Call (1)",
        "### Web Page (1)",
        "### Zeta Type (1)",
    ]


@pytest.mark.parametrize(
    ("memory_type", "heading"),
    [
        ("episodic", "Recent Actions"),
        ("decision", "Decisions"),
        ("entity", "Entities"),
        ("session", "Session Notes"),
        ("tool_call", "Tool Call"),
        ("API_call", "API Call"),
        ("user-profile", "User Profile"),
        ("observation", "Observation"),
    ],
)
def test_type_headings(memory_type: str, heading: str) -> None:
    assert type_heading(memory_type) == heading


def test_content_and_session_id_can_never_break_the_structure() -> None:
    memory = Memory(
        id="m1",
        time=BASE,
        agent_id="a",
        content="  first line\n\n### not a heading\r\n- not a bullet\u2028end  ",
    )
    blank = Memory(id="m2", time=BASE - timedelta(minutes=1), agent_id="a", content=" \n\t")
    result = render_context("sess\nevil", [memory, blank], ContextRequest())
    assert result.context == (
        "## Session Context (sess evil)\n\n"
        "### Recent Actions (2)\n"
        "- first line ### not a heading - not a bullet end\n"
        "- (empty)\n"
    )


# --- validation ------------------------------------------------------------------------

KNOWN = (*MEMTRACE_MEMORY_TYPES, "tool_call")


def test_valid_request_becomes_a_window() -> None:
    window = validate_context_request(
        ContextRequest(
            since="4h",
            until="2026-03-14T15:00:00Z",
            include_types=("episodic", "decision", "episodic"),
            exclude_types=("tool_call",),
            max_tokens=2000,
            order="asc",
            encoding="o200k_base",
        ),
        FROZEN_NOW,
        KNOWN,
    )
    assert window == ContextWindow(
        since=FROZEN_NOW - timedelta(hours=4),
        until=FROZEN_NOW.replace(minute=0, second=0),
        include_types=("episodic", "decision"),
        exclude_types=("tool_call",),
    )


def test_empty_request_is_an_open_window() -> None:
    assert validate_context_request(ContextRequest(since=""), FROZEN_NOW, KNOWN) == ContextWindow()


def test_unknown_type_names_it_and_lists_known_types() -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_context_request(
            ContextRequest(include_types=("episodic", "foo")), FROZEN_NOW, MEMTRACE_MEMORY_TYPES
        )
    assert str(caught.value) == (
        "unknown memory type 'foo' in include_types; known types: decision, entity, episodic, "
        "session"
    )
    assert (caught.value.field, caught.value.value) == ("include_types", "foo")
    with pytest.raises(InvalidInputError, match=r"unknown memory type 'bar' in exclude_types"):
        validate_context_request(ContextRequest(exclude_types=("bar",)), FROZEN_NOW, KNOWN)


@pytest.mark.parametrize(
    ("request_", "field", "fragment"),
    [
        (ContextRequest(since="4 hours"), "since", "invalid since '4 hours'"),
        (ContextRequest(until="later"), "until", "invalid until 'later'"),
        (ContextRequest(since="1h", until="2h"), "since", "since '1h'"),
        (ContextRequest(order="newest"), "order", "invalid order 'newest'"),
        (ContextRequest(max_tokens=0), "max_tokens", "invalid max_tokens 0"),
        (ContextRequest(max_tokens=-5), "max_tokens", "invalid max_tokens -5"),
        (ContextRequest(max_tokens=True), "max_tokens", "invalid max_tokens True"),
        (ContextRequest(max_tokens="100"), "max_tokens", "invalid max_tokens '100'"),  # type: ignore[arg-type]
        (ContextRequest(encoding="gpt2"), "encoding", "unknown encoding 'gpt2'"),
        (ContextRequest(include_types="episodic"), "include_types", "'episodic'"),  # type: ignore[arg-type]
    ],
)
def test_bad_requests_name_the_value(request_: ContextRequest, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_context_request(request_, FROZEN_NOW, KNOWN)
    assert caught.value.field == field
    assert fragment in str(caught.value)
