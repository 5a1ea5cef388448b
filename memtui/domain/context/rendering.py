"""How a context reads: the header, the sections in their fixed order with their
headings (`section_key`, `type_heading`), one bullet per memory (`bullet_text`:
line breaks collapsed, so content can never break the markdown), and the markdown
put together (`render`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from memtui.domain.context.selection import (
    ContextMemory,
)
from memtui.domain.models import (
    ERROR_EVENT_TYPE,
    MemoryType,
)

EMPTY_WINDOW_LINE = "_No memories in this window._"


NOTHING_FITS_LINE = "_No memories fit within the token budget._"


EMPTY_CONTENT = "(empty)"


ERRORS_HEADING = "Errors"


_BUILTIN_HEADINGS: dict[str, str] = {
    MemoryType.EPISODIC.value: "Recent Actions",
    MemoryType.DECISION.value: "Decisions",
    MemoryType.ENTITY.value: "Entities",
    MemoryType.SESSION.value: "Session Notes",
}


_BUILTIN_RANK = {memory_type: rank for rank, memory_type in enumerate(_BUILTIN_HEADINGS)}


_ERRORS_RANK = len(_BUILTIN_RANK)


_OTHER_RANK = _ERRORS_RANK + 1


# Every line break Python knows (str.splitlines), with the blanks around it.
LINE_BREAK = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]\s*")


_WORD_SEPARATORS = re.compile(r"[\s_\-]+")


def one_line(text: str) -> str:
    """Line breaks and the blanks around them become one space; ends are trimmed."""
    if LINE_BREAK.search(text) is None:  # the usual case; the substitution is slower
        return text.strip()
    return LINE_BREAKS.sub(" ", text).strip()


def bullet_text(content: str) -> str:
    return one_line(content) or EMPTY_CONTENT


def type_heading(memory_type: str) -> str:
    """The section heading for a memory type: built-in names, else title case."""
    builtin = _BUILTIN_HEADINGS.get(memory_type)
    if builtin is not None:
        return builtin
    words = [word for word in _WORD_SEPARATORS.split(memory_type) if word]
    # Upper-case only the first letter, so acronyms (API_call -> API Call) survive.
    return " ".join(word[:1].upper() + word[1:] for word in words) or one_line(memory_type)


def header_line(session_id: str) -> str:
    return f"## Session Context ({one_line(session_id)})"


def section_key(memory: ContextMemory) -> tuple[int, str]:
    """Sorts sections: built-ins, Errors, then other types alphabetically."""
    if memory.event_type == ERROR_EVENT_TYPE:
        return (_ERRORS_RANK, "")
    rank = _BUILTIN_RANK.get(memory.memory_type)
    if rank is not None:
        return (rank, "")
    return (_OTHER_RANK, memory.memory_type)


def heading_for(key: tuple[int, str], memory: ContextMemory) -> str:
    if key[0] == _ERRORS_RANK:
        return ERRORS_HEADING
    return type_heading(memory.memory_type)


class Entry:
    """A memory considered for the context: its bullet line and what it costs."""

    __slots__ = ("display_key", "line", "separator_extra", "tokens")

    def __init__(self, memory: ContextMemory, position: int, line: str) -> None:
        # position (in priority order) breaks ties, so the output is deterministic
        self.display_key = (memory.time, memory.id, position)
        self.line = line  # "- content\n"
        self.tokens = -1  # of `line`; -1 until encoded
        self.separator_extra: int | None = None  # tokens a following blank line adds


@dataclass(slots=True)
class Section:
    key: tuple[int, str]
    heading: str
    heading_prefix_tokens: int  # of "### Heading (" ; the count and ")\n" are added
    entries: list[Entry]
    last: Entry | None = None  # the entry displayed last (a blank line may follow it)
    heading_tokens: int = 0  # of its heading line as it reads now (0 while empty)


def entry_for(memory: ContextMemory, position: int) -> Entry:
    text = memory.content
    if LINE_BREAK.search(text) is not None:
        text = LINE_BREAKS.sub(" ", text)
    return Entry(memory, position, f"- {text.strip() or EMPTY_CONTENT}\n")


def render(session_id: str, sections: Sequence[Section], descending: bool, empty_line: str) -> str:
    parts = [header_line(session_id), "\n\n"]
    if not sections:
        parts += [empty_line, "\n"]
        return "".join(parts)
    display_key = attrgetter("display_key")
    for index, section in enumerate(sections):
        if index:
            parts.append("\n")
        parts.append(f"### {section.heading} ({len(section.entries)})\n")
        entries = sorted(section.entries, key=display_key, reverse=descending)
        parts.extend(entry.line for entry in entries)
    return "".join(parts)
