"""Stored text as UI text: never markup, control characters made visible.

Everything a client stored (session ids, agent names, memory content, working-memory
keys and values, snapshot fields, tasks) is untrusted: an LLM may have repeated an
escape sequence or something that looks like markup into it. The TUI therefore never
puts stored text into a markup string. It builds every cell from these helpers, which
return Textual `Content` / Rich `Text` objects (never parsed as markup) holding the
text with every control character shown by `memtui.domain.safe_text`
(`\\x1b]52;…` shows as `␛]52;…`).

- `line(text)`: a one-line value (a cell, a header, a title): newlines and tabs show.
- `block(text)`: a multi-line body: newlines and tabs stay.
- `preview(text)`: a one-line preview of a multi-line body (runs of spaces, tabs and
  newlines become one space; every other control character shows).
- `cell(text)`: the same as `line`, as a Rich `Text` (DataTable cells).
- `join(*parts)`: app text and stored values in one `Content`: each part is a plain
  string or a `(text, style)` pair, every one made visible, none read as markup.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

from memtui.domain.safe_text import visible_line, visible_text

__all__ = ["Part", "block", "cell", "join", "line", "preview", "preview_text"]

Part = str | Content | tuple[str, str]

_LAYOUT_WHITESPACE = re.compile(r"[ \t\n]+")


def preview_text(text: str) -> str:
    """`text` on one line: layout whitespace collapsed, other controls visible."""
    return visible_line(_LAYOUT_WHITESPACE.sub(" ", text).strip())


def preview(text: str, style: str = "") -> Content:
    """A one-line preview of multi-line stored text (a memory's content)."""
    content = Content(preview_text(text))
    return content.stylize(style) if style else content


def line(text: str, style: str = "") -> Content:
    """One-line stored text, shown literally."""
    content = Content(visible_line(text))
    return content.stylize(style) if style else content


def block(text: str, style: str = "") -> Content:
    """Multi-line stored text, shown literally (lines and tabs kept)."""
    content = Content(visible_text(text))
    return content.stylize(style) if style else content


def cell(text: str, style: str = "", **options: object) -> Text:
    """A DataTable cell holding stored text (a `str` cell would be read as markup)."""
    return Text(visible_line(text), style=style, **options)  # type: ignore[arg-type]


def join(*parts: Part, separator: str = "") -> Content:
    """Parts of one line or body, stored text and app text alike, none read as markup.
    A `(text, style)` part is styled (`"b $warning"`); a `Content` part is kept."""
    pieces: list[Content] = []
    for part in parts:
        if isinstance(part, Content):
            pieces.append(part)
        elif isinstance(part, tuple):
            pieces.append(block(part[0], part[1]))
        else:
            pieces.append(block(part))
    return Content(separator).join(pieces)
