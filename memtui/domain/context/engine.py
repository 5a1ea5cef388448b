"""The context engine's entry point: `render_context` chooses memories in priority
order (selection), keeps those that fit the token budget (budget), and writes the
markdown (rendering)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tiktoken

from memtui.domain.context.budget import (
    ASCII_ALNUM,
    MAX_CONSECUTIVE_MISSES,
    MIN_BULLET_TOKENS,
    Budget,
    Selection,
    min_tokens,
    new_section,
    take_chunks,
)
from memtui.domain.context.rendering import (
    EMPTY_CONTENT,
    EMPTY_WINDOW_LINE,
    LINE_BREAK,
    LINE_BREAKS,
    NOTHING_FITS_LINE,
    Entry,
    Section,
    bullet_text,
    header_line,
    render,
    section_key,
)
from memtui.domain.context.selection import (
    ContextMemory,
    sort_by_priority,
)
from memtui.domain.models import (
    ERROR_EVENT_TYPE,
    ContextRequest,
    ContextResult,
    Order,
)
from memtui.domain.tokens import get_encoding


@dataclass(slots=True)
class BuiltContext:
    """A context with how it was chosen, for explaining it (`explain`): the sections as
    shown (their entries carry each memory's id and priority position), and where the
    budget pass stopped reading candidates, if it stopped early."""

    result: ContextResult
    sections: list[Section]
    stop_position: int | None = None  # the first candidate never considered
    stop_reason: str | None = None  # STOP_FULL or STOP_MISSES


STOP_FULL = "full"  # fewer than MIN_BULLET_TOKENS tokens were left
STOP_MISSES = "misses"  # MAX_CONSECUTIVE_MISSES memories in a row did not fit


def render_context(
    session_id: str,
    memories: Sequence[ContextMemory],
    request: ContextRequest,
    *,
    priority_ordered: bool = False,
) -> ContextResult:
    """The markdown for `memories` (see `build_context_parts`)."""
    return build_context_parts(
        session_id, memories, request, priority_ordered=priority_ordered
    ).result


def build_context_parts(
    session_id: str,
    memories: Sequence[ContextMemory],
    request: ContextRequest,
    *,
    priority_ordered: bool = False,
) -> BuiltContext:
    """The markdown for `memories` (already filtered by window and types), within
    `request.max_tokens` counted with `request.encoding`.

    With `priority_ordered=True` the caller promises `memories` is already in priority
    order (`ORDER BY COALESCE(importance, 0.5) DESC, time DESC, id DESC`); the engine
    then iterates it only as far as the budget needs (a lazy sequence works) and asks
    `len()` for the total once it is done reading (so a lazy sequence read to its end
    knows its length without counting).
    """
    encoding = get_encoding(request.encoding)
    descending = request.order != Order.ASC.value
    if request.max_tokens is None:
        return _render_unlimited(session_id, memories, encoding, descending, len(memories))

    max_tokens = request.max_tokens
    budget = Budget(encoding, descending)
    header_tokens = budget.count(header_line(session_id) + "\n\n")
    ordered = memories if priority_ordered else sort_by_priority(memories)
    candidates = enumerate(ordered)
    section_keys: dict[tuple[str, bool], tuple[int, str]] = {}
    selection = Selection(sections={}, final=None, used=header_tokens)
    # Far from the budget's end, whole chunks are encoded at once; near it, one by one.
    candidates = take_chunks(budget, selection, candidates, max_tokens, section_keys)
    sections = selection.sections
    final = selection.final
    used = selection.used
    included = selection.included
    misses = 0
    # The loop below runs once per candidate memory near the budget's end: it is
    # written out flat (local names, inlined fast paths) to stay near tiktoken's speed.
    encode = encoding.encode_ordinary
    separator_extra = budget.separator_extra
    number_tokens = budget.number_tokens
    close_tokens = budget.close_tokens
    bare_newline_extra = budget.bare_newline_extra
    stop_position: int | None = None
    stop_reason: str | None = None
    for position, memory in candidates:
        if max_tokens - used < MIN_BULLET_TOKENS or misses >= MAX_CONSECUTIVE_MISSES:
            stop_position = position
            stop_reason = STOP_MISSES if misses >= MAX_CONSECUTIVE_MISSES else STOP_FULL
            break
        text = memory.content
        if LINE_BREAK.search(text) is not None:
            text = LINE_BREAKS.sub(" ", text)
        text = text.strip() or EMPTY_CONTENT
        entry = Entry(memory, position, f"- {text}\n")
        if text[-1] in ASCII_ALNUM:
            entry.separator_extra = bare_newline_extra
        type_and_error = (memory.memory_type, memory.event_type == ERROR_EVENT_TYPE)
        key = section_keys.get(type_and_error)
        if key is None:
            key = section_keys[type_and_error] = section_key(memory)
        section = sections.get(key)
        if section is None:
            section = new_section(key, memory, encoding)
        old_last = section.last
        if old_last is None:
            new_last = entry
        elif descending:
            new_last = entry if entry.display_key < old_last.display_key else old_last
        else:
            new_last = entry if entry.display_key > old_last.display_key else old_last
        # What adding the entry changes besides its own line: the heading's count, and
        # the blank lines after the last bullet of every section but the final one.
        count = len(section.entries) + 1
        heading_tokens = number_tokens.get(count)
        if heading_tokens is None:
            heading_tokens = budget.number_tokens_of(count)
        heading_tokens += section.heading_prefix_tokens + close_tokens
        structure = heading_tokens - section.heading_tokens
        becomes_final = final is None or key > final.key
        if becomes_final:
            if final is not None and final is not section:
                structure += separator_extra(final.last)  # type: ignore[arg-type]
        elif final is not section and new_last is not old_last:
            extra = new_last.separator_extra
            structure += separator_extra(new_last) if extra is None else extra
            if old_last is not None:
                extra = old_last.separator_extra
                structure -= separator_extra(old_last) if extra is None else extra
        line = entry.line
        tokens = entry.tokens
        if tokens < 0:
            room = max_tokens - used - structure
            if len(line) > room and min_tokens(line) > room:
                misses += 1  # certainly too big: no need to encode it
                continue
            tokens = entry.tokens = len(encode(line))
        change = structure + tokens
        if used + change > max_tokens:
            misses += 1
            continue
        misses = 0
        used += change
        included += 1
        section.entries.append(entry)
        section.last = new_last
        section.heading_tokens = heading_tokens
        sections[key] = section
        if becomes_final:
            final = section

    total = len(memories)
    omitted = total - included
    empty_line = ""
    if included == 0:
        empty_line = EMPTY_WINDOW_LINE if total == 0 else NOTHING_FITS_LINE
        used = header_tokens + budget.count(empty_line + "\n")
        if used > max_tokens:
            empty = ContextResult(
                session_id=session_id,
                context="",
                memory_count=0,
                token_count=0,
                max_tokens=max_tokens,
                truncated=True,
                omitted_count=total,
                encoding=encoding.name,
            )
            return BuiltContext(empty, [], stop_position, stop_reason)
    ordered_sections = [sections[key] for key in sorted(sections)]
    result = ContextResult(
        session_id=session_id,
        context=render(session_id, ordered_sections, descending, empty_line),
        memory_count=included,
        token_count=used,
        max_tokens=max_tokens,
        truncated=omitted > 0,
        omitted_count=omitted,
        encoding=encoding.name,
    )
    return BuiltContext(result, ordered_sections, stop_position, stop_reason)


def _render_unlimited(
    session_id: str,
    memories: Sequence[ContextMemory],
    encoding: tiktoken.Encoding,
    descending: bool,
    total: int,
) -> BuiltContext:
    sections: dict[tuple[int, str], Section] = {}
    for position, memory in enumerate(memories):
        key = section_key(memory)
        section = sections.get(key)
        if section is None:
            section = sections[key] = new_section(key, memory, None)
        section.entries.append(Entry(memory, position, f"- {bullet_text(memory.content)}\n"))
    ordered_sections = [sections[key] for key in sorted(sections)]
    context = render(session_id, ordered_sections, descending, EMPTY_WINDOW_LINE)
    result = ContextResult(
        session_id=session_id,
        context=context,
        memory_count=total,
        token_count=len(encoding.encode_ordinary(context)),
        max_tokens=None,
        truncated=False,
        omitted_count=0,
        encoding=encoding.name,
    )
    return BuiltContext(result, ordered_sections)
