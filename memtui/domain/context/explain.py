"""Why each memory is in a context or not (`explain_context`), and what it costs.

Given every memory of a session (the candidates) and a context request, it answers:
- for each candidate: `included`, and if not, the reason (`Reason`): out of the time
  window, its type excluded or not among the included types, or the token budget (it
  was tried and did not fit, or the budget pass had stopped before reaching it);
- per section: the heading, the number of memories and the exact tokens, which with
  the header's tokens add up to the context's `token_count`;
- what would fit next: "raise the budget by N tokens to include the next M memories",
  and what it takes to include every memory of the window.

It runs the engine itself (`build_context_parts`), so the explanation is of exactly the
context `render_context` builds from the same memories and request.

Section tokens are counted by encoding each section's part of the markdown on its own:
tiktoken's pieces never span a newline followed by `#` (see the package docstring), so
the parts' counts add up to the whole's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from memtui.domain.clock import ensure_utc
from memtui.domain.context.engine import STOP_MISSES, build_context_parts
from memtui.domain.context.rendering import (
    Section,
    bullet_text,
    header_line,
    heading_for,
    one_line,
    section_key,
)
from memtui.domain.context.selection import ContextMemory, ContextWindow, sort_by_priority
from memtui.domain.models import ContextRequest, Memory, dt_from_json, dt_to_json
from memtui.domain.tokens import get_encoding


class Reason(StrEnum):
    """Why a candidate memory is in the context or not."""

    INCLUDED = "included"
    BEFORE_WINDOW = "before_window"  # older than `since`
    AFTER_WINDOW = "after_window"  # newer than `until`
    TYPE_EXCLUDED = "type_excluded"  # its type is in exclude_types
    TYPE_NOT_INCLUDED = "type_not_included"  # include_types given, its type not among them
    DID_NOT_FIT = "did_not_fit"  # tried, but its line did not fit the tokens left
    NOT_REACHED = "not_reached"  # the budget pass stopped before trying it


OUT_OF_WINDOW = frozenset({Reason.BEFORE_WINDOW, Reason.AFTER_WINDOW})
BUDGET_REASONS = frozenset({Reason.DID_NOT_FIT, Reason.NOT_REACHED})


@dataclass(frozen=True, slots=True)
class CandidateExplanation:
    """One memory of the session, and why it is in the context or not."""

    id: str
    time: datetime
    memory_type: str
    event_type: str
    importance: float | None
    content: str
    included: bool
    reason: str  # a Reason value
    detail: str  # the reason in words, for a reader
    section: str | None  # the heading it is (or would be) shown under
    tokens: int | None  # of its bullet line; None when outside the window or types
    priority: int | None  # its place in the budget's priority order (0 first); None outside

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": dt_to_json(self.time),
            "memory_type": self.memory_type,
            "event_type": self.event_type,
            "importance": self.importance,
            "content": self.content,
            "included": self.included,
            "reason": self.reason,
            "detail": self.detail,
            "section": self.section,
            "tokens": self.tokens,
            "priority": self.priority,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CandidateExplanation:
        return cls(
            id=str(data["id"]),
            time=dt_from_json(data["time"]),  # type: ignore[arg-type]
            memory_type=str(data["memory_type"]),
            event_type=str(data["event_type"]),
            importance=data.get("importance"),
            content=str(data.get("content") or ""),
            included=bool(data["included"]),
            reason=str(data["reason"]),
            detail=str(data.get("detail") or ""),
            section=data.get("section"),
            tokens=data.get("tokens"),
            priority=data.get("priority"),
        )


@dataclass(frozen=True, slots=True)
class SectionCost:
    """A section of the context: its heading, how many memories, its exact tokens (the
    heading line, the bullets and the blank line after it, if one follows)."""

    heading: str
    memory_count: int
    tokens: int

    def to_json(self) -> dict[str, Any]:
        return {"heading": self.heading, "memory_count": self.memory_count, "tokens": self.tokens}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SectionCost:
        return cls(str(data["heading"]), int(data["memory_count"]), int(data["tokens"]))


@dataclass(frozen=True, slots=True)
class BudgetRaise:
    """Raise the budget by `tokens` (to `max_tokens`) to include `memories` more."""

    tokens: int
    memories: int
    max_tokens: int

    def to_json(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "memories": self.memories, "max_tokens": self.max_tokens}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> BudgetRaise | None:
        if not data:
            return None
        return cls(int(data["tokens"]), int(data["memories"]), int(data["max_tokens"]))


@dataclass(frozen=True, slots=True)
class ContextExplanation:
    session_id: str
    max_tokens: int | None
    encoding: str
    token_count: int  # of the context; header_tokens + every section's tokens
    memory_count: int  # included
    header_tokens: int  # the "## Session Context" line and the blank after it (or the
    # "no memories" line when nothing is shown)
    sections: list[SectionCost]
    candidates: list[CandidateExplanation]  # every memory of the session, priority order
    next_raise: BudgetRaise | None = None  # the least raise that includes one more
    all_raise: BudgetRaise | None = None  # the raise that includes the whole window
    since: datetime | None = None
    until: datetime | None = None
    include_types: list[str] = field(default_factory=list)
    exclude_types: list[str] = field(default_factory=list)

    @property
    def omitted(self) -> list[CandidateExplanation]:
        return [candidate for candidate in self.candidates if not candidate.included]

    def reason_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for candidate in self.candidates:
            counts[candidate.reason] = counts.get(candidate.reason, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "max_tokens": self.max_tokens,
            "encoding": self.encoding,
            "token_count": self.token_count,
            "memory_count": self.memory_count,
            "candidate_count": len(self.candidates),
            "omitted_count": len(self.candidates) - self.memory_count,
            "header_tokens": self.header_tokens,
            "sections": [section.to_json() for section in self.sections],
            "next_raise": None if self.next_raise is None else self.next_raise.to_json(),
            "all_raise": None if self.all_raise is None else self.all_raise.to_json(),
            "since": dt_to_json(self.since),
            "until": dt_to_json(self.until),
            "include_types": list(self.include_types),
            "exclude_types": list(self.exclude_types),
            "candidates": [candidate.to_json() for candidate in self.candidates],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContextExplanation:
        return cls(
            session_id=str(data["session_id"]),
            max_tokens=data.get("max_tokens"),
            encoding=str(data["encoding"]),
            token_count=int(data["token_count"]),
            memory_count=int(data["memory_count"]),
            header_tokens=int(data["header_tokens"]),
            sections=[SectionCost.from_json(item) for item in data.get("sections") or []],
            candidates=[
                CandidateExplanation.from_json(item) for item in data.get("candidates") or []
            ],
            next_raise=BudgetRaise.from_json(data.get("next_raise")),
            all_raise=BudgetRaise.from_json(data.get("all_raise")),
            since=dt_from_json(data.get("since")),
            until=dt_from_json(data.get("until")),
            include_types=[str(t) for t in data.get("include_types") or []],
            exclude_types=[str(t) for t in data.get("exclude_types") or []],
        )


@dataclass(frozen=True, slots=True)
class _Row:
    """A memory as the engine reads it (ContextMemory). `time` is (time, rank), rank
    growing with the list's insertion order, so memories of one time sort as the store
    sorts them (time, then insertion order), not by id."""

    id: str
    time: tuple[datetime, int]
    content: str
    memory_type: str
    event_type: str
    importance: float | None
    memory: Memory


def _rows(memories: Sequence[Memory]) -> list[_Row]:
    count = len(memories)
    return [
        _Row(
            m.id,
            (ensure_utc(m.time), count - index),
            m.content,
            m.memory_type,
            m.event_type,
            m.importance,
            m,
        )
        for index, m in enumerate(memories)
    ]


def _window_reason(memory: Memory, window: ContextWindow) -> tuple[Reason, str] | None:
    """Why the window or the types leave `memory` out; None if they keep it. The store
    selects with the same rules (inclusive bounds; exclusion wins over inclusion)."""
    time = ensure_utc(memory.time)
    if window.since is not None and time < window.since:
        return Reason.BEFORE_WINDOW, f"older than the window's start ({dt_to_json(window.since)})"
    if window.until is not None and time > window.until:
        return Reason.AFTER_WINDOW, f"newer than the window's end ({dt_to_json(window.until)})"
    if memory.memory_type in window.exclude_types:
        return Reason.TYPE_EXCLUDED, f"type {memory.memory_type!r} is excluded"
    if window.include_types and memory.memory_type not in window.include_types:
        included = ", ".join(window.include_types)
        return Reason.TYPE_NOT_INCLUDED, (
            f"type {memory.memory_type!r} is not among the included types ({included})"
        )
    return None


def in_window(memories: Sequence[Memory], window: ContextWindow) -> list[ContextMemory]:
    """The memories the window and types keep (what a store selects for a context), as
    the engine reads them (memories of one time in the list's insertion order)."""
    return [row for row in _rows(memories) if _window_reason(row.memory, window) is None]


def _section_costs(
    session_id: str, sections: Sequence[Section], context: str, encoding_name: str
) -> tuple[int, list[SectionCost]]:
    """The header's tokens and each section's, counted from the markdown's own parts."""
    if not context:
        return 0, []
    encode = get_encoding(encoding_name).encode_ordinary
    header = header_line(session_id) + "\n\n"
    if not sections:
        return len(encode(context)), []
    costs: list[SectionCost] = []
    body = context[len(header) :]
    # Each section's text is its heading line, its bullets and the blank line after it.
    # Headings are searched in order, each after the one before, so equal headings with
    # different counts, or a heading's text inside a bullet, cannot confuse the split.
    position = 0
    starts = []
    for section in sections:
        heading = f"### {section.heading} ({len(section.entries)})\n"
        found = body.index(heading, position)
        if found != position:
            raise AssertionError("a section does not start where the one before it ended")
        starts.append(found)
        position = found + len(heading) + sum(len(entry.line) for entry in section.entries) + 1
    starts.append(len(body))
    for index, section in enumerate(sections):
        text = body[starts[index] : starts[index + 1]]
        costs.append(SectionCost(section.heading, len(section.entries), len(encode(text))))
    return len(encode(header)), costs


def _included_ids(sections: Sequence[Section]) -> dict[str, tuple[str, int]]:
    """id -> (heading, tokens of its line)."""
    found: dict[str, tuple[str, int]] = {}
    for section in sections:
        for entry in section.entries:
            found[entry.display_key[1]] = (section.heading, entry.tokens)
    return found


def explain_context(
    session_id: str,
    memories: Sequence[Memory],
    request: ContextRequest,
    window: ContextWindow,
) -> ContextExplanation:
    """Every memory of the session (`memories`, in the backends' list order: newest
    first, then the latest inserted), in or out of the context that `request` builds,
    with the reason; `window` is `validate_context_request(request, …)`."""
    in_window: list[_Row] = []
    outside: list[tuple[_Row, Reason, str]] = []
    for row in _rows(memories):
        why = _window_reason(row.memory, window)
        if why is None:
            in_window.append(row)
        else:
            outside.append((row, why[0], why[1]))
    ordered = sort_by_priority(in_window)
    built = build_context_parts(session_id, ordered, request, priority_ordered=True)
    result = built.result
    encoding = get_encoding(request.encoding)
    encode = encoding.encode_ordinary
    included = _included_ids(built.sections)
    header_tokens, costs = _section_costs(
        session_id, built.sections, result.context, request.encoding
    )

    candidates: list[CandidateExplanation] = []
    left = (request.max_tokens or 0) - result.token_count
    for position, memory in enumerate(ordered):
        line = f"- {bullet_text(memory.content)}\n"
        heading = one_line(heading_for(section_key(memory), memory))
        place = included.get(memory.id)
        if place is not None:
            tokens = place[1] if place[1] >= 0 else len(encode(line))
            reason, detail = Reason.INCLUDED, f"included under {place[0]} ({tokens} tokens)"
        elif built.stop_position is not None and position >= built.stop_position:
            tokens = len(encode(line))
            reason = Reason.NOT_REACHED
            if built.stop_reason == STOP_MISSES:
                detail = (
                    f"not tried: {tokens} tokens; the budget pass stopped after 8 memories "
                    "in a row did not fit"
                )
            else:
                detail = f"not tried: {tokens} tokens; the budget was full ({left} left)"
        else:
            tokens = len(encode(line))
            reason = Reason.DID_NOT_FIT
            detail = f"did not fit the token budget: its line is {tokens} tokens"
            if not result.context:
                detail += " (not even the header fits)"
        candidates.append(
            _candidate(memory, reason, detail, heading, tokens, position, place is not None)
        )
    for memory, reason, detail in _by_priority(outside):
        heading = one_line(heading_for(section_key(memory), memory))
        candidates.append(_candidate(memory, reason, detail, heading, None, None, False))

    next_raise, all_raise = _raises(session_id, ordered, request, included)
    return ContextExplanation(
        session_id=session_id,
        max_tokens=request.max_tokens,
        encoding=encoding.name,
        token_count=result.token_count,
        memory_count=result.memory_count,
        header_tokens=header_tokens,
        sections=costs,
        candidates=candidates,
        next_raise=next_raise,
        all_raise=all_raise,
        since=window.since,
        until=window.until,
        include_types=list(window.include_types),
        exclude_types=list(window.exclude_types),
    )


def _by_priority(
    items: list[tuple[_Row, Reason, str]],
) -> list[tuple[_Row, Reason, str]]:
    reasons = {id(memory): (reason, detail) for memory, reason, detail in items}
    ordered = sort_by_priority(memory for memory, _, _ in items)
    return [(memory, *reasons[id(memory)]) for memory in ordered]


def _candidate(
    row: _Row,
    reason: Reason,
    detail: str,
    heading: str,
    tokens: int | None,
    priority: int | None,
    included: bool,
) -> CandidateExplanation:
    memory = row.memory
    return CandidateExplanation(
        id=memory.id,
        time=memory.time,
        memory_type=memory.memory_type,
        event_type=memory.event_type,
        importance=memory.importance,
        content=memory.content,
        included=included,
        reason=reason.value,
        detail=detail,
        section=heading,
        tokens=tokens,
        priority=priority,
    )


def _raises(
    session_id: str,
    ordered: list[_Row],
    request: ContextRequest,
    included: dict[str, tuple[str, int]],
) -> tuple[BudgetRaise | None, BudgetRaise | None]:
    """The least budget that takes in the highest-priority memory left out, and the one
    that takes in the whole window (each checked by building at that budget).

    Every memory before the first one left out (in priority order) was included, so at
    any budget from the current one up, the engine reads the same prefix the same way;
    the first one left out then fits exactly when the budget holds the markdown of that
    prefix plus it."""
    budget = request.max_tokens
    if budget is None or len(included) == len(ordered):
        return None, None
    first_out = next(i for i, memory in enumerate(ordered) if memory.id not in included)
    unlimited = ContextRequest(order=request.order, encoding=request.encoding)

    def raise_to(max_tokens: int) -> BudgetRaise:
        at = build_context_parts(
            session_id,
            ordered,
            ContextRequest(order=request.order, encoding=request.encoding, max_tokens=max_tokens),
            priority_ordered=True,
        )
        now_in = _included_ids(at.sections)
        gained = sum(1 for memory_id in now_in if memory_id not in included)
        return BudgetRaise(tokens=max_tokens - budget, memories=gained, max_tokens=max_tokens)

    prefix = ordered[: first_out + 1]
    needed = build_context_parts(session_id, prefix, unlimited, priority_ordered=True)
    next_raise = raise_to(max(needed.result.token_count, budget + 1))
    whole = build_context_parts(session_id, ordered, unlimited, priority_ordered=True)
    all_raise = raise_to(max(whole.result.token_count, budget + 1))
    if all_raise.max_tokens <= next_raise.max_tokens:
        all_raise = next_raise
    return next_raise, all_raise


# --- comparing two contexts -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionDelta:
    heading: str
    tokens_before: int
    tokens_after: int
    memories_before: int
    memories_after: int

    @property
    def delta(self) -> int:
        return self.tokens_after - self.tokens_before

    def to_json(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "delta": self.delta,
            "memories_before": self.memories_before,
            "memories_after": self.memories_after,
        }


@dataclass(frozen=True, slots=True)
class ContextDiff:
    """Two contexts of one session compared (two times, budgets or encodings): which
    memories entered and which left, and the tokens per section before and after."""

    before: ContextExplanation
    after: ContextExplanation
    entered: list[CandidateExplanation]  # in `after`, not in `before`
    left: list[CandidateExplanation]  # in `before`, not in `after` (as they were then)
    sections: list[SectionDelta]

    @property
    def token_delta(self) -> int:
        return self.after.token_count - self.before.token_count

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.after.session_id,
            "tokens_before": self.before.token_count,
            "tokens_after": self.after.token_count,
            "token_delta": self.token_delta,
            "header_tokens_before": self.before.header_tokens,
            "header_tokens_after": self.after.header_tokens,
            "entered": [c.to_json() for c in self.entered],
            "left": [c.to_json() for c in self.left],
            "sections": [s.to_json() for s in self.sections],
        }


def diff_contexts(before: ContextExplanation, after: ContextExplanation) -> ContextDiff:
    """`after` against `before`. Sections are matched by heading, in `after`'s order
    then the ones only `before` had; the header's delta is the rest of the total's."""
    was_in = {c.id: c for c in before.candidates if c.included}
    now_in = {c.id: c for c in after.candidates if c.included}
    entered = [c for c in after.candidates if c.included and c.id not in was_in]
    left = [c for c in before.candidates if c.included and c.id not in now_in]
    old = {s.heading: s for s in before.sections}
    new = {s.heading: s for s in after.sections}
    headings = [s.heading for s in after.sections] + [
        s.heading for s in before.sections if s.heading not in new
    ]
    sections = []
    for heading in headings:
        a, b = old.get(heading), new.get(heading)
        sections.append(
            SectionDelta(
                heading=heading,
                tokens_before=a.tokens if a else 0,
                tokens_after=b.tokens if b else 0,
                memories_before=a.memory_count if a else 0,
                memories_after=b.memory_count if b else 0,
            )
        )
    return ContextDiff(before=before, after=after, entered=entered, left=left, sections=sections)


__all__ = [
    "BUDGET_REASONS",
    "OUT_OF_WINDOW",
    "BudgetRaise",
    "CandidateExplanation",
    "ContextDiff",
    "ContextExplanation",
    "Reason",
    "SectionCost",
    "SectionDelta",
    "diff_contexts",
    "explain_context",
]
