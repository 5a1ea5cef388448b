"""The context engine: a session's memories as LLM-ready markdown within a token budget.

Format (seed 000, /work/shared/API.md "Context")::

    ## Session Context (sess_abc)

    ### Recent Actions (3)
    - Crawled https://example.com — found 3 product pages
    - Extracted pricing data from 3 pages

    ### Decisions (1)
    - Decided to focus on product category A

Every line ends with a newline, so the markdown ends with one newline.

Sections, in this fixed order, each only if it has memories:
Recent Actions (episodic), Decisions (decision), Entities (entity), Session Notes
(session), Errors (any memory whose event_type is `error`, whatever its type), then every
other type alphabetically by type name, headed by its name in title case
(`tool_call` -> `Tool Call`). Inside a section, memories follow `order` by time
(desc: newest first, the default), ties broken by id.

A memory's content becomes one bullet line: line breaks (and the blanks around them) are
collapsed to single spaces, so content can never break the markdown structure; empty
content reads `(empty)`.

With nothing to show, the header is followed by `_No memories in this window._` (or
`_No memories fit within the token budget._` when memories exist but none fit).

Budget (`max_tokens`): the tiktoken count of the whole markdown, headings included,
never exceeds it. Memories are considered by priority: importance first (highest first;
a memory without importance counts as 0.5), then the most recent, then the highest id.
Each memory that still fits is included; one that does not fit is left out and the next
is tried, until fewer than 2 tokens are left (no bullet is smaller) or 8 memories in a
row did not fit (so the work stays proportional to the output, not to the session).
If not even the header and the "nothing fits" line fit, the context is empty ("") with
token_count 0. `truncated` is true whenever something was left out.

Counting is exact without re-encoding the markdown: tiktoken first splits text with a
regex into pieces and encodes each piece on its own, and no piece ever spans a newline
followed by `-` or `#`. So the markdown's count is the sum of its lines' counts, where
each line is encoded with its newline, and the last bullet of a section that a blank
line follows is counted with both newlines (see `_Budget.known_separator_extra`). So
each candidate line is encoded once and the final markdown is never re-encoded (a final
verification count alone would cost as much as tiktoken's whole yardstick). Far from
the budget's end, lines are encoded a chunk at a time (`_take_chunks`), which is
provably the same selection; near it, one by one. The property tests check the counts
against a full count and the selection against a literal reference of the rule above.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, Protocol, TypeVar

import tiktoken

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    ENCODINGS,
    ERROR_EVENT_TYPE,
    ContextRequest,
    ContextResult,
    MemoryType,
    Order,
)
from memtui.domain.timewindow import parse_time_bound
from memtui.domain.tokens import get_encoding

DEFAULT_IMPORTANCE = 0.5  # what a memory without importance counts as when budgeting
MAX_CONSECUTIVE_MISSES = 8
_MIN_BULLET_TOKENS = 2  # "-" is always a piece of its own, the content is at least one more
_MIN_CHUNK = 4  # below this, chunks save nothing: the one-by-one pass takes over
_INITIAL_CHARS_PER_TOKEN = 3.0  # a cautious guess for the first chunk; then measured
_CHUNK_SHARE = 0.5  # of the room left that a chunk aims to fill

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
_LINE_BREAK = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]\s*")
_WORD_SEPARATORS = re.compile(r"[\s_\-]+")
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_ASCII_PUNCTUATION = frozenset(string.punctuation)


class ContextMemory(Protocol):
    """What the engine reads of a memory. `Memory` is one; the store hands the engine
    lighter rows with just these fields (see SqlStore.build_context).

    `time` only orders bullets within a section, so anything that sorts chronologically
    and consistently within one build will do: datetimes, or SQLite's fixed-width UTC
    text as stored."""

    @property
    def id(self) -> str: ...
    @property
    def time(self) -> Any: ...
    @property
    def content(self) -> str: ...
    @property
    def memory_type(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def importance(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ContextWindow:
    """A validated context request's filters; the store selects memories with them."""

    since: datetime | None = None
    until: datetime | None = None
    include_types: tuple[str, ...] = ()  # empty: every type
    exclude_types: tuple[str, ...] = ()  # wins over include_types


# --- validation ------------------------------------------------------------------------


def _type_names(
    values: Iterable[str] | None, field: str, known: Collection[str]
) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise InvalidInputError(
            f"invalid {field} {values!r}: expected a list of memory types",
            field=field,
            value=values,
        )
    names: list[str] = []
    for value in values:
        if not isinstance(value, str) or value not in known:
            raise InvalidInputError(
                f"unknown memory type {value!r} in {field}; "
                f"known types: {', '.join(sorted(known))}",
                field=field,
                value=value,
            )
        if value not in names:
            names.append(value)
    return tuple(names)


def validate_context_request(
    request: ContextRequest, now: datetime, known_types: Collection[str]
) -> ContextWindow:
    """Checks every field of `request`; InvalidInputError names the bad value.

    An empty `since`/`until` string means "not given" (some clients send "")."""
    since = parse_time_bound(request.since, now, field="since") if request.since else None
    until = parse_time_bound(request.until, now, field="until") if request.until else None
    if since is not None and until is not None and since > until:
        raise InvalidInputError(
            f"invalid window: since {request.since!r} ({since.isoformat()}) is after "
            f"until {request.until!r} ({until.isoformat()})",
            field="since",
            value=request.since,
        )
    include_types = _type_names(request.include_types, "include_types", known_types)
    exclude_types = _type_names(request.exclude_types, "exclude_types", known_types)
    if request.order not in (Order.ASC.value, Order.DESC.value):
        raise InvalidInputError(
            f"invalid order {request.order!r}: use asc or desc", field="order", value=request.order
        )
    max_tokens = request.max_tokens
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise InvalidInputError(
            f"invalid max_tokens {max_tokens!r}: use a positive whole number",
            field="max_tokens",
            value=max_tokens,
        )
    if request.encoding not in ENCODINGS:
        raise InvalidInputError(
            f"unknown encoding {request.encoding!r}; known encodings: {', '.join(ENCODINGS)}",
            field="encoding",
            value=request.encoding,
        )
    return ContextWindow(
        since=since, until=until, include_types=include_types, exclude_types=exclude_types
    )


# --- formatting ------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Line breaks and the blanks around them become one space; ends are trimmed."""
    if _LINE_BREAK.search(text) is None:  # the usual case; the substitution is slower
        return text.strip()
    return _LINE_BREAKS.sub(" ", text).strip()


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


def _heading_for(key: tuple[int, str], memory: ContextMemory) -> str:
    if key[0] == _ERRORS_RANK:
        return ERRORS_HEADING
    return type_heading(memory.memory_type)


def importance_of(memory: ContextMemory) -> float:
    return DEFAULT_IMPORTANCE if memory.importance is None else memory.importance


_M = TypeVar("_M", bound=ContextMemory)
_BY_TIME_THEN_ID = attrgetter("time", "id")


def sort_by_priority(memories: Iterable[_M]) -> list[_M]:
    """Importance desc (None = 0.5), then time desc, then id desc; stable otherwise.

    Two stable sorts, the first on a C key (attrgetter): measured faster at 10k
    memories than one sort on a Python tuple key."""
    ordered = sorted(memories, key=_BY_TIME_THEN_ID, reverse=True)
    ordered.sort(key=importance_of, reverse=True)
    return ordered


# --- the engine ------------------------------------------------------------------------


class _Entry:
    """A memory considered for the context: its bullet line and what it costs."""

    __slots__ = ("display_key", "line", "separator_extra", "tokens")

    def __init__(self, memory: ContextMemory, position: int, line: str) -> None:
        # position (in priority order) breaks ties, so the output is deterministic
        self.display_key = (memory.time, memory.id, position)
        self.line = line  # "- content\n"
        self.tokens = -1  # of `line`; -1 until encoded
        self.separator_extra: int | None = None  # tokens a following blank line adds


@dataclass(slots=True)
class _Section:
    key: tuple[int, str]
    heading: str
    heading_prefix_tokens: int  # of "### Heading (" ; the count and ")\n" are added
    entries: list[_Entry]
    last: _Entry | None = None  # the entry displayed last (a blank line may follow it)
    heading_tokens: int = 0  # of its heading line as it reads now (0 while empty)


def _is_letter_or_number(char: str) -> bool:
    # Unicode 3.2 letters/numbers are letters/numbers in any Unicode version tiktoken's
    # regex tables may use; newer characters take the exact (encoding) path.
    if char.isascii():
        return False
    category = unicodedata.ucd_3_2_0.category(char)
    return category[0] in "LN" and unicodedata.category(char)[0] == category[0]


@lru_cache(maxsize=1024)
def _tokens_cached(encoding_name: str, text: str) -> int:
    """For the few short texts every build needs (heading prefixes): cached per process."""
    return len(get_encoding(encoding_name).encode_ordinary(text))


@lru_cache(maxsize=256)
def _newline_extra_cached(encoding_name: str, tail: str) -> int:
    encoding = get_encoding(encoding_name)
    return len(encoding.encode_ordinary(tail + "\n\n")) - len(encoding.encode_ordinary(tail + "\n"))


def _min_tokens(line: str) -> int:
    """A lower bound of the tokens of `line`, without encoding it: tiktoken's pieces
    hold at most one space, at their start, unless they are all whitespace; so every
    run of non-spaces between ASCII spaces is at least one piece, hence one token."""
    chunks = line.split(" ")
    return len(chunks) - chunks.count("")


_SHARED_COUNTS: dict[str, tuple[dict[int, int], dict[str, int]]] = {}


def _shared_counts(encoding_name: str) -> tuple[dict[int, int], dict[str, int]]:
    """Per encoding: tokens of heading counts (number -> tokens) and of a blank line
    after a single punctuation mark (mark -> extra). Filled as builds need them; a
    racing thread at worst computes the same value twice."""
    counts = _SHARED_COUNTS.get(encoding_name)
    if counts is None:
        counts = _SHARED_COUNTS.setdefault(encoding_name, ({}, {}))
    return counts


class _Budget:
    """Exact token bookkeeping of the markdown while memories are chosen."""

    def __init__(self, encoding: tiktoken.Encoding, descending: bool) -> None:
        self.encoding = encoding
        self.encode = encoding.encode_ordinary
        self.descending = descending
        self.close_tokens = _tokens_cached(encoding.name, ")\n")
        self.bare_newline_extra = _newline_extra_cached(encoding.name, "")
        # Shared by every build with this encoding: counts that are the same each time.
        self.number_tokens, self.single_punctuation_extra = _shared_counts(encoding.name)

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def tokens_of(self, entry: _Entry) -> int:
        if entry.tokens < 0:
            entry.tokens = len(self.encode(entry.line))
        return entry.tokens

    def number_tokens_of(self, number: int) -> int:
        """Tokens of a heading's count. A heading "### Heading (n)\\n" is counted as
        "### Heading (" + "n" + ")\\n": tiktoken's pieces split before and after digits."""
        tokens = self.number_tokens[number] = len(self.encode(str(number)))
        return tokens

    def separator_extra(self, entry: _Entry) -> int:
        if entry.separator_extra is None:
            entry.separator_extra = self._separator_extra(entry)
        return entry.separator_extra

    def _separator_extra(self, entry: _Entry) -> int:
        extra = self.known_separator_extra(entry)
        if extra is None:
            return self.count(entry.line + "\n") - self.tokens_of(entry)
        return extra

    def known_separator_extra(self, entry: _Entry) -> int | None:
        """Tokens a blank line adds after this bullet: count("- c\\n\\n") - count("- c\\n"),
        if it is known without encoding the line again (else None).

        Only the line's last piece changes, and for the usual endings that piece is
        known: after a letter or digit it is the bare newline; after a run R of ASCII
        punctuation that follows a letter, a digit or a space it is R (with that space)
        plus the newline.
        """
        content = entry.line[2:-1]
        last = content[-1]
        if last in _ASCII_ALNUM:
            return self.bare_newline_extra
        if last in _ASCII_PUNCTUATION and len(content) > 1 and content[-2] in _ASCII_ALNUM:
            # The most common ending after the bare word: "word." -> the piece ".\n".
            extra = self.single_punctuation_extra.get(last)
            if extra is None:
                extra = self.single_punctuation_extra[last] = _newline_extra_cached(
                    self.encoding.name, last
                )
            return extra
        tail: str | None = None
        if _is_letter_or_number(last):
            tail = ""
        elif last in _ASCII_PUNCTUATION:
            start = len(content) - 1
            while start > 0 and content[start - 1] in _ASCII_PUNCTUATION:
                start -= 1
            before = content[start - 1] if start > 0 else " "  # the space after "-"
            if before in _ASCII_ALNUM or _is_letter_or_number(before):
                tail = content[start:]
            elif before == " ":
                tail = " " + content[start:]
        if tail is None:
            return None
        if len(tail) <= 8:
            return _newline_extra_cached(self.encoding.name, tail)
        return self.count(tail + "\n\n") - self.count(tail + "\n")

    def heading_line_tokens(self, section: _Section, count: int) -> int:
        number = self.number_tokens.get(count)
        if number is None:
            number = self.number_tokens_of(count)
        return section.heading_prefix_tokens + number + self.close_tokens


@dataclass(slots=True)
class _Selection:
    """What has been chosen so far."""

    sections: dict[tuple[int, str], _Section]
    final: _Section | None  # the last section shown: no blank line follows it
    used: int  # tokens of the markdown as chosen so far (without an empty line)
    included: int = 0


@lru_cache(maxsize=8)
def _counts_grow_monotonically(encoding_name: str) -> bool:
    """True if every number below 1000 is one token, so a longer count never has fewer
    tokens (true for cl100k_base and o200k_base; checked, not assumed)."""
    encode = get_encoding(encoding_name).encode_ordinary
    return all(len(encode(str(number))) == 1 for number in range(1000))


def _entry_for(memory: ContextMemory, position: int) -> _Entry:
    text = memory.content
    if _LINE_BREAK.search(text) is not None:
        text = _LINE_BREAKS.sub(" ", text)
    return _Entry(memory, position, f"- {text.strip() or EMPTY_CONTENT}\n")


def _take_chunks(
    budget: _Budget,
    selection: _Selection,
    candidates: Iterator[tuple[int, ContextMemory]],
    max_tokens: int,
    section_keys: dict[tuple[str, bool], tuple[int, str]],
) -> Iterator[tuple[int, ContextMemory]]:
    """Includes memories a chunk at a time while whole chunks certainly fit, encoding each
    chunk's lines in one call; returns the candidates left (a chunk that did not fit is
    put back first), for the careful one-by-one pass, which then sees exactly the
    candidates it would have seen.

    A chunk is taken whole only if the markdown with all of it stays within the budget
    with at least _MIN_BULLET_TOKENS to spare, and adding its memories one by one could
    never make the count shrink (every separator change within [-1, 1] and counts that
    never lose tokens; a bullet is at least 2 tokens), so each memory would also have fit
    when considered alone: the result is exactly the one-by-one result.
    """
    if not _counts_grow_monotonically(budget.encoding.name):
        return candidates
    encode = budget.encode
    search_line_break = _LINE_BREAK.search
    collapse_line_breaks = _LINE_BREAKS.sub
    chars_per_token = _INITIAL_CHARS_PER_TOKEN
    share = _CHUNK_SHARE
    while True:
        # Aim at a share of the room left, so a chunk rarely fails; one that fails is put
        # back and tried again smaller, with the characters per token it measured.
        target_chars = (max_tokens - selection.used) * chars_per_token * share
        chunk: list[tuple[int, ContextMemory]] = []
        entries: list[_Entry] = []
        lines: list[str] = []
        chars = 0
        for candidate in candidates:  # _entry_for, inlined: this runs once per memory
            position, memory = candidate
            text = memory.content
            if search_line_break(text) is not None:
                text = collapse_line_breaks(" ", text)
            line = f"- {text.strip() or EMPTY_CONTENT}\n"
            chunk.append(candidate)
            entries.append(_Entry(memory, position, line))
            lines.append(line)
            chars += len(line)
            if chars >= target_chars:
                break
        if len(chunk) < _MIN_CHUNK:
            return itertools.chain(chunk, candidates)
        tokens = len(encode("".join(lines)))
        chars_per_token = chars / tokens
        plan = _plan_chunk(budget, selection, chunk, entries, section_keys)
        if plan is None:
            return itertools.chain(chunk, candidates)
        changed, final_key, structure = plan
        if selection.used + tokens + structure > max_tokens - _MIN_BULLET_TOKENS:
            candidates = itertools.chain(chunk, candidates)
            share /= 2  # and smaller each time, down to the one-by-one pass
            continue
        for section, count, last in changed.values():
            section.heading_tokens = budget.heading_line_tokens(section, count)
            section.last = last
            selection.sections[section.key] = section
        for (_, memory), entry in zip(chunk, entries, strict=True):
            type_and_error = (memory.memory_type, memory.event_type == ERROR_EVENT_TYPE)
            selection.sections[section_keys[type_and_error]].entries.append(entry)
        selection.final = selection.sections[final_key]
        selection.used += tokens + structure
        selection.included += len(chunk)


def _plan_chunk(
    budget: _Budget,
    selection: _Selection,
    chunk: list[tuple[int, ContextMemory]],
    entries: list[_Entry],
    section_keys: dict[tuple[str, bool], tuple[int, str]],
) -> tuple[dict[tuple[int, str], tuple[_Section, int, _Entry]], tuple[int, str], int] | None:
    """The sections a chunk changes (section, new count, new last entry), the final
    section's key afterwards, and the tokens the structure (headings, blank lines) adds;
    None if the chunk cannot safely be taken whole."""
    descending = budget.descending
    bare_newline_extra = budget.bare_newline_extra
    known_separator_extra = budget.known_separator_extra
    changed: dict[tuple[int, str], tuple[_Section, int, _Entry]] = {}
    for (_, memory), entry in zip(chunk, entries, strict=True):
        if entry.line[-2] in _ASCII_ALNUM:  # known_separator_extra's first case, inlined
            extra: int | None = bare_newline_extra
        else:
            extra = known_separator_extra(entry)
        if extra is None or not -1 <= extra <= 1:
            return None
        entry.separator_extra = extra
        type_and_error = (memory.memory_type, memory.event_type == ERROR_EVENT_TYPE)
        key = section_keys.get(type_and_error)
        if key is None:
            key = section_keys[type_and_error] = section_key(memory)
        state = changed.get(key)
        if state is None:
            section = selection.sections.get(key) or _new_section(key, memory, budget.encoding)
            state = (section, len(section.entries), section.last)
        section, count, last = state
        if last is None or (
            entry.display_key < last.display_key
            if descending
            else entry.display_key > last.display_key
        ):
            last = entry
        changed[key] = (section, count + 1, last)  # type: ignore[assignment]
    old_final = selection.final
    final_key = max(changed) if old_final is None else max(old_final.key, max(changed))
    structure = 0
    for key, (section, count, last) in changed.items():
        structure += budget.heading_line_tokens(section, count) - section.heading_tokens
        old_last = section.last
        if old_last is not None:
            old_extra = budget.separator_extra(old_last)
            if not -1 <= old_extra <= 1:
                return None
            if key != old_final.key:  # type: ignore[union-attr]
                structure -= old_extra  # its blank line no longer follows old_last...
        if key != final_key:
            structure += budget.separator_extra(last)  # ...but follows the new last
    if old_final is not None and old_final.key != final_key and old_final.key not in changed:
        extra = budget.separator_extra(old_final.last)  # type: ignore[arg-type]
        if not -1 <= extra <= 1:
            return None
        structure += extra
    return changed, final_key, structure


def _render(
    session_id: str, sections: Sequence[_Section], descending: bool, empty_line: str
) -> str:
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


def _new_section(
    key: tuple[int, str], memory: ContextMemory, encoding: tiktoken.Encoding | None
) -> _Section:
    heading = one_line(_heading_for(key, memory))
    prefix_tokens = 0 if encoding is None else _tokens_cached(encoding.name, f"### {heading} (")
    return _Section(key=key, heading=heading, heading_prefix_tokens=prefix_tokens, entries=[])


def render_context(
    session_id: str,
    memories: Sequence[ContextMemory],
    request: ContextRequest,
    *,
    priority_ordered: bool = False,
) -> ContextResult:
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
    budget = _Budget(encoding, descending)
    header_tokens = budget.count(header_line(session_id) + "\n\n")
    ordered = memories if priority_ordered else sort_by_priority(memories)
    candidates = enumerate(ordered)
    section_keys: dict[tuple[str, bool], tuple[int, str]] = {}
    selection = _Selection(sections={}, final=None, used=header_tokens)
    # Far from the budget's end, whole chunks are encoded at once; near it, one by one.
    candidates = _take_chunks(budget, selection, candidates, max_tokens, section_keys)
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
    for position, memory in candidates:
        if max_tokens - used < _MIN_BULLET_TOKENS or misses >= MAX_CONSECUTIVE_MISSES:
            break
        text = memory.content
        if _LINE_BREAK.search(text) is not None:
            text = _LINE_BREAKS.sub(" ", text)
        text = text.strip() or EMPTY_CONTENT
        entry = _Entry(memory, position, f"- {text}\n")
        if text[-1] in _ASCII_ALNUM:
            entry.separator_extra = bare_newline_extra
        type_and_error = (memory.memory_type, memory.event_type == ERROR_EVENT_TYPE)
        key = section_keys.get(type_and_error)
        if key is None:
            key = section_keys[type_and_error] = section_key(memory)
        section = sections.get(key)
        if section is None:
            section = _new_section(key, memory, encoding)
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
            if len(line) > room and _min_tokens(line) > room:
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
            return ContextResult(
                session_id=session_id,
                context="",
                memory_count=0,
                token_count=0,
                max_tokens=max_tokens,
                truncated=True,
                omitted_count=total,
                encoding=encoding.name,
            )
    ordered_sections = [sections[key] for key in sorted(sections)]
    return ContextResult(
        session_id=session_id,
        context=_render(session_id, ordered_sections, descending, empty_line),
        memory_count=included,
        token_count=used,
        max_tokens=max_tokens,
        truncated=omitted > 0,
        omitted_count=omitted,
        encoding=encoding.name,
    )


def _render_unlimited(
    session_id: str,
    memories: Sequence[ContextMemory],
    encoding: tiktoken.Encoding,
    descending: bool,
    total: int,
) -> ContextResult:
    sections: dict[tuple[int, str], _Section] = {}
    for position, memory in enumerate(memories):
        key = section_key(memory)
        section = sections.get(key)
        if section is None:
            section = sections[key] = _new_section(key, memory, None)
        section.entries.append(_Entry(memory, position, f"- {bullet_text(memory.content)}\n"))
    ordered_sections = [sections[key] for key in sorted(sections)]
    context = _render(session_id, ordered_sections, descending, EMPTY_WINDOW_LINE)
    return ContextResult(
        session_id=session_id,
        context=context,
        memory_count=total,
        token_count=len(encoding.encode_ordinary(context)),
        max_tokens=None,
        truncated=False,
        omitted_count=0,
        encoding=encoding.name,
    )
