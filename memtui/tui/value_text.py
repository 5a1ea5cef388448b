"""A working-memory value as the editor shows it, and what is too large to edit there.

A 5 MB value froze the UI for 9-12 s and took ~480 MB: formatting it with an indent
(pure-Python json) and loading a few hundred thousand lines into the TextArea both ran
on the UI thread. Now the pane measures and formats values in its load worker, and a
value whose JSON is over `LARGE_VALUE_CHARS` opens read-only as a preview of its first
`PREVIEW_CHARS`; the whole value is edited in $EDITOR (memtui.tui.external_editor).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from memtui.domain.safe_text import CONTROL_CHARACTERS

LARGE_VALUE_CHARS = 256_000  # compact JSON; a TextArea stays quick below this
PREVIEW_CHARS = 64_000  # what a large value shows, read-only

# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal acts on (C1
# controls, bidi overrides, line separators) or cannot encode (lone surrogates). It
# escapes C0 controls itself; the only ones in its output are the layout's newlines.
_RAW_IN_JSON = re.compile(f"[{CONTROL_CHARACTERS.replace(chr(0) + '-' + chr(0x1F), '')}]")


def _escape_raw(text: str) -> str:
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def format_value(value: Any) -> str:
    """How a stored value appears in the editor: JSON with every control character
    written as a `\\uXXXX` escape (json.dumps escapes C0 itself), so the editor never
    sends one to the terminal and the text still parses back to the same value."""
    return _escape_raw(json.dumps(value, indent=2, ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class ValueText:
    """What the editor shows for a value: all of it, or (`large`) a preview."""

    text: str
    size: int  # characters of its compact JSON
    large: bool

    @property
    def size_label(self) -> str:
        return describe_size(self.size)


def value_text(value: Any) -> ValueText:
    """The editor's text for `value`; over LARGE_VALUE_CHARS only a preview (the first
    PREVIEW_CHARS of the formatted JSON, cut at a line end), never the whole."""
    size = len(json.dumps(value, ensure_ascii=False))  # the C encoder: fast
    if size <= LARGE_VALUE_CHARS:
        return ValueText(format_value(value), size, large=False)
    pieces: list[str] = []
    length = 0
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    for chunk in encoder.iterencode(value):  # stops early: never formats it all
        pieces.append(chunk)
        length += len(chunk)
        if length >= PREVIEW_CHARS:
            break
    preview = "".join(pieces)[:PREVIEW_CHARS]
    cut = preview.rfind("\n")
    preview = preview[:cut] if cut > 0 else preview
    return ValueText(_escape_raw(preview) + "\n…", size, large=True)


def describe_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size} B"
