"""Stored text made safe to show on a terminal: control characters become visible.

Memory is written by LLMs that repeat what they read, so a stored string may carry
terminal escape sequences (`ESC ]52;…` writes the clipboard, `ESC [2J` clears the
screen). Every front end that writes stored text to a terminal passes it through
`visible_line` (one-line cells: tables, lists, headers) or `visible_text` (multi-line
bodies, which keep their newlines and tabs) first.

What becomes visible, and how:
- C0 controls U+0000–U+001F and DEL U+007F become their Unicode "control pictures"
  (U+2400 block): ESC is `␛`, BEL `␇`, NUL `␀`, CR `␍`, LF `␊`, TAB `␉`, DEL `␡`.
  So `"\\x1b]52;c;aGk=\\x07"` shows as `␛]52;c;aGk=␇`.
- C1 controls U+0080–U+009F (a terminal reads U+009B as CSI, like `ESC [`), the bidi
  embedding/override/isolate controls U+202A–U+202E and U+2066–U+2069 (they reorder
  what is shown: "Trojan source"), and the line/paragraph separators U+2028/U+2029
  (which `str.splitlines` treats as line breaks) become `<U+XXXX>`, as `less` shows them.
- Lone surrogates (U+D800–U+DFFF; JSON `"\\ud800"` decodes to one, and it cannot be
  encoded as UTF-8) become `<U+D800>` too, so printing never fails.

Everything else, including ordinary non-ASCII text, emoji and right-to-left scripts,
is left as it is. The functions are pure and cheap (a translate table plus one regex
search), so a pane may call them for every cell it draws.
"""

from __future__ import annotations

import re

__all__ = [
    "CONTROL_CHARACTERS",
    "has_controls",
    "visible_line",
    "visible_text",
]

# Characters a terminal or a line splitter acts on, as a regex character class.
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL_RE = re.compile(f"[{CONTROL_CHARACTERS}]")


def _picture(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC is ␛ U+241B)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


_ALL_VISIBLE: dict[int, str] = {
    code: _picture(code)
    for code in [
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0xD800, 0xE000),
    ]
}
# Multi-line bodies keep line feeds and tabs (a CR stays visible: alone it would move
# the cursor back over text already drawn).
_KEEP_LAYOUT = {code: value for code, value in _ALL_VISIBLE.items() if code not in (0x0A, 0x09)}


def has_controls(text: str) -> bool:
    """True when `text` holds any character `visible_line` would replace."""
    return _CONTROL_RE.search(text) is not None


def visible_line(text: str) -> str:
    """`text` for a one-line cell: every control character, newlines and tabs included,
    replaced by a visible stand-in (`"a\\x1b[2Jb\\n"` -> `"a␛[2Jb␊"`)."""
    if _CONTROL_RE.search(text) is None:  # the common case: nothing to copy
        return text
    return text.translate(_ALL_VISIBLE)


def visible_text(text: str) -> str:
    """`text` for a multi-line body: like `visible_line`, but line feeds and tabs stay
    (a CR, alone or in CRLF, still shows as `␍`)."""
    if _CONTROL_RE.search(text) is None:
        return text
    return text.translate(_KEEP_LAYOUT)
