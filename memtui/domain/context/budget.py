"""What fits: exact token bookkeeping of the markdown while memories are chosen
(`Budget`, `Selection`), counted line by line without re-encoding the whole (see
the package's docstring for why that is exact), and the chunked pass that encodes
many candidate lines at once far from the budget's end (`take_chunks`)."""

from __future__ import annotations

import itertools
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tiktoken

from memtui.domain.context.rendering import (
    EMPTY_CONTENT,
    LINE_BREAK,
    LINE_BREAKS,
    Entry,
    Section,
    heading_for,
    one_line,
    section_key,
)
from memtui.domain.context.selection import (
    ContextMemory,
)
from memtui.domain.models import (
    ERROR_EVENT_TYPE,
)
from memtui.domain.tokens import get_encoding

MAX_CONSECUTIVE_MISSES = 8


MIN_BULLET_TOKENS = 2  # "-" is always a piece of its own, the content is at least one more


_MIN_CHUNK = 4  # below this, chunks save nothing: the one-by-one pass takes over


_INITIAL_CHARS_PER_TOKEN = 3.0  # a cautious guess for the first chunk; then measured


_CHUNK_SHARE = 0.5  # of the room left that a chunk aims to fill


ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)


_ASCII_PUNCTUATION = frozenset(string.punctuation)


def _is_letter_or_number(char: str) -> bool:
    # Unicode 3.2 letters/numbers are letters/numbers in any Unicode version tiktoken's
    # regex tables may use; newer characters take the exact (encoding) path.
    if char.isascii():
        return False
    category = unicodedata.ucd_3_2_0.category(char)
    return category[0] in "LN" and unicodedata.category(char)[0] == category[0]


@lru_cache(maxsize=1024)
def tokens_cached(encoding_name: str, text: str) -> int:
    """For the few short texts every build needs (heading prefixes): cached per process."""
    return len(get_encoding(encoding_name).encode_ordinary(text))


@lru_cache(maxsize=256)
def _newline_extra_cached(encoding_name: str, tail: str) -> int:
    encoding = get_encoding(encoding_name)
    return len(encoding.encode_ordinary(tail + "\n\n")) - len(encoding.encode_ordinary(tail + "\n"))


def min_tokens(line: str) -> int:
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


class Budget:
    """Exact token bookkeeping of the markdown while memories are chosen."""

    def __init__(self, encoding: tiktoken.Encoding, descending: bool) -> None:
        self.encoding = encoding
        self.encode = encoding.encode_ordinary
        self.descending = descending
        self.close_tokens = tokens_cached(encoding.name, ")\n")
        self.bare_newline_extra = _newline_extra_cached(encoding.name, "")
        # Shared by every build with this encoding: counts that are the same each time.
        self.number_tokens, self.single_punctuation_extra = _shared_counts(encoding.name)

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def tokens_of(self, entry: Entry) -> int:
        if entry.tokens < 0:
            entry.tokens = len(self.encode(entry.line))
        return entry.tokens

    def number_tokens_of(self, number: int) -> int:
        """Tokens of a heading's count. A heading "### Heading (n)\\n" is counted as
        "### Heading (" + "n" + ")\\n": tiktoken's pieces split before and after digits."""
        tokens = self.number_tokens[number] = len(self.encode(str(number)))
        return tokens

    def separator_extra(self, entry: Entry) -> int:
        if entry.separator_extra is None:
            entry.separator_extra = self._separator_extra(entry)
        return entry.separator_extra

    def _separator_extra(self, entry: Entry) -> int:
        extra = self.known_separator_extra(entry)
        if extra is None:
            return self.count(entry.line + "\n") - self.tokens_of(entry)
        return extra

    def known_separator_extra(self, entry: Entry) -> int | None:
        """Tokens a blank line adds after this bullet: count("- c\\n\\n") - count("- c\\n"),
        if it is known without encoding the line again (else None).

        Only the line's last piece changes, and for the usual endings that piece is
        known: after a letter or digit it is the bare newline; after a run R of ASCII
        punctuation that follows a letter, a digit or a space it is R (with that space)
        plus the newline.
        """
        content = entry.line[2:-1]
        last = content[-1]
        if last in ASCII_ALNUM:
            return self.bare_newline_extra
        if last in _ASCII_PUNCTUATION and len(content) > 1 and content[-2] in ASCII_ALNUM:
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
            if before in ASCII_ALNUM or _is_letter_or_number(before):
                tail = content[start:]
            elif before == " ":
                tail = " " + content[start:]
        if tail is None:
            return None
        if len(tail) <= 8:
            return _newline_extra_cached(self.encoding.name, tail)
        return self.count(tail + "\n\n") - self.count(tail + "\n")

    def heading_line_tokens(self, section: Section, count: int) -> int:
        number = self.number_tokens.get(count)
        if number is None:
            number = self.number_tokens_of(count)
        return section.heading_prefix_tokens + number + self.close_tokens


@dataclass(slots=True)
class Selection:
    """What has been chosen so far."""

    sections: dict[tuple[int, str], Section]
    final: Section | None  # the last section shown: no blank line follows it
    used: int  # tokens of the markdown as chosen so far (without an empty line)
    included: int = 0


@lru_cache(maxsize=8)
def _counts_grow_monotonically(encoding_name: str) -> bool:
    """True if every number below 1000 is one token, so a longer count never has fewer
    tokens (true for cl100k_base and o200k_base; checked, not assumed)."""
    encode = get_encoding(encoding_name).encode_ordinary
    return all(len(encode(str(number))) == 1 for number in range(1000))


def new_section(
    key: tuple[int, str], memory: ContextMemory, encoding: tiktoken.Encoding | None
) -> Section:
    heading = one_line(heading_for(key, memory))
    prefix_tokens = 0 if encoding is None else tokens_cached(encoding.name, f"### {heading} (")
    return Section(key=key, heading=heading, heading_prefix_tokens=prefix_tokens, entries=[])


def take_chunks(
    budget: Budget,
    selection: Selection,
    candidates: Iterator[tuple[int, ContextMemory]],
    max_tokens: int,
    section_keys: dict[tuple[str, bool], tuple[int, str]],
) -> Iterator[tuple[int, ContextMemory]]:
    """Includes memories a chunk at a time while whole chunks certainly fit, encoding each
    chunk's lines in one call; returns the candidates left (a chunk that did not fit is
    put back first), for the careful one-by-one pass, which then sees exactly the
    candidates it would have seen.

    A chunk is taken whole only if the markdown with all of it stays within the budget
    with at least MIN_BULLET_TOKENS to spare, and adding its memories one by one could
    never make the count shrink (every separator change within [-1, 1] and counts that
    never lose tokens; a bullet is at least 2 tokens), so each memory would also have fit
    when considered alone: the result is exactly the one-by-one result.
    """
    if not _counts_grow_monotonically(budget.encoding.name):
        return candidates
    encode = budget.encode
    search_line_break = LINE_BREAK.search
    collapse_line_breaks = LINE_BREAKS.sub
    chars_per_token = _INITIAL_CHARS_PER_TOKEN
    share = _CHUNK_SHARE
    while True:
        # Aim at a share of the room left, so a chunk rarely fails; one that fails is put
        # back and tried again smaller, with the characters per token it measured.
        target_chars = (max_tokens - selection.used) * chars_per_token * share
        chunk: list[tuple[int, ContextMemory]] = []
        entries: list[Entry] = []
        lines: list[str] = []
        chars = 0
        for candidate in candidates:  # entry_for, inlined: this runs once per memory
            position, memory = candidate
            text = memory.content
            if search_line_break(text) is not None:
                text = collapse_line_breaks(" ", text)
            line = f"- {text.strip() or EMPTY_CONTENT}\n"
            chunk.append(candidate)
            entries.append(Entry(memory, position, line))
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
        if selection.used + tokens + structure > max_tokens - MIN_BULLET_TOKENS:
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
    budget: Budget,
    selection: Selection,
    chunk: list[tuple[int, ContextMemory]],
    entries: list[Entry],
    section_keys: dict[tuple[str, bool], tuple[int, str]],
) -> tuple[dict[tuple[int, str], tuple[Section, int, Entry]], tuple[int, str], int] | None:
    """The sections a chunk changes (section, new count, new last entry), the final
    section's key afterwards, and the tokens the structure (headings, blank lines) adds;
    None if the chunk cannot safely be taken whole."""
    descending = budget.descending
    bare_newline_extra = budget.bare_newline_extra
    known_separator_extra = budget.known_separator_extra
    changed: dict[tuple[int, str], tuple[Section, int, Entry]] = {}
    for (_, memory), entry in zip(chunk, entries, strict=True):
        if entry.line[-2] in ASCII_ALNUM:  # known_separator_extra's first case, inlined
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
            section = selection.sections.get(key) or new_section(key, memory, budget.encoding)
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
