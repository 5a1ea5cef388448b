"""The hostile-data corpus: strings an LLM may repeat into memory, shared by the server,
CLI and TUI tests (issue 8, "stored data is data").

    from tests.helpers.hostile import ISSUE_STRINGS, STORABLE_STRINGS, hostile_text

- `ISSUE_STRINGS`: the literal strings of issue 8 and the house rules: markup-looking
  task names, terminal escape sequences (OSC 0 title, OSC 52 clipboard, clear screen,
  colour), a NUL byte, Textual action links.
- `STORABLE_STRINGS`: the ones every store accepts as text. Text holding a NUL byte or a
  lone surrogate cannot be stored as text by PostgreSQL (nor encoded as UTF-8), so both
  backends refuse it with a 400 / InvalidInputError naming the field: see
  `REFUSED_STRINGS`.
- `hostile_text()` / `hostile_id()`: hypothesis strategies mixing arbitrary unicode,
  C0/C1 control characters, escape sequences and markup-looking brackets.
- `deep_json(depth)`: a JSON value nested `depth` levels deep (`{"a": {"a": ... 1}}`).
- `shown(text)`: how a terminal front end must show `text` (control characters made
  visible by memtui.domain.safe_text); assert on this for panes and `memtui` on a tty.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from memtui.domain.safe_text import visible_line, visible_text

# Markup-looking text: Rich/Textual markup, action links, variables, bare brackets.
MARKUP_STRINGS: tuple[str, ...] = (
    "[WIP] fix login",
    "[P1]: urgent",
    "arr[0",
    "[1x",
    "[ @click=app.quit]x",
    "[@click=app.quit]quit[/]",
    "[$var]",
    "[$accent]x",
    "[ tag]",
    "[b]bold[/b]",
    "[red]red[/red]",
    "[link=https://example.com]link[/link]",
    "\\[escaped]",
    "[/]",
    "]",
    "[",
)

# Terminal control: each would act on the operator's terminal if written raw.
CONTROL_STRINGS: tuple[str, ...] = (
    "\x1b]0;TITLE\x07",  # OSC 0: window title
    "\x1b]52;c;aGk=\x07",  # OSC 52: write the clipboard
    "\x1b[2J",  # clear the screen
    "\x1b[31mx",  # colour
    "\x1b[31mred\x1b[0m",
    "\x9b2J",  # 8-bit CSI
    "\x1bP+q\x1b\\",  # DCS
    "bell\x07",
    "back\x08\x08space",
    "carriage\rreturn",
    "tab\tinside",
    "line one\nline two",
    "\x7fdel",
    "\u202eevil.exe",  # right-to-left override
    "para\u2029sep",
)

NUL_STRINGS: tuple[str, ...] = ("a\x00b", "\x00")
SURROGATE_STRINGS: tuple[str, ...] = ("lone \ud800 surrogate",)

# Everything else a store must keep exactly.
PLAIN_ODD_STRINGS: tuple[str, ...] = (
    "héllo wörld",
    "日本語のメモ",
    "שלום עולם",
    "👩‍💻🔥",
    "e\u0301 combining",
    "zero\u200bwidth",
    "  leading and trailing  ",
    '{"looks": "like json"}',
    "<script>alert(1)</script>",
    "%s %d {0} {name}",
    "x" * 3000,
)

ISSUE_STRINGS: tuple[str, ...] = (
    "[WIP] fix login",
    "[P1]: urgent",
    "arr[0",
    "[1x",
    "[ @click=app.quit]x",
    "\x1b]0;TITLE\x07",
    "\x1b]52;c;aGk=\x07",
    "\x1b[2J",
    "\x1b[31mx",
    "a\x00b",
)

REFUSED_STRINGS: tuple[str, ...] = NUL_STRINGS + SURROGATE_STRINGS
STORABLE_STRINGS: tuple[str, ...] = tuple(
    dict.fromkeys(
        s
        for s in (*ISSUE_STRINGS, *MARKUP_STRINGS, *CONTROL_STRINGS, *PLAIN_ODD_STRINGS)
        if s not in REFUSED_STRINGS
    )
)

_CONTROL_CHARS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))] + [
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
]
_FRAGMENTS = ["[", "]", "[/]", "[b]", "[@click=app.quit]", "[$var]", "[ tag]", "\\", "\x1b["]


def _pieces(allow_nul: bool) -> st.SearchStrategy[str]:
    controls = [c for c in _CONTROL_CHARS if allow_nul or c != "\x00"]
    return st.one_of(
        st.text(
            st.characters(
                exclude_categories=("Cs",), exclude_characters="" if allow_nul else "\x00"
            ),
            min_size=1,
            max_size=8,
        ),
        st.sampled_from(controls),
        st.sampled_from(_FRAGMENTS),
        st.sampled_from([s for s in (*ISSUE_STRINGS, *CONTROL_STRINGS) if "\x00" not in s]),
    )


def hostile_text(
    *, min_pieces: int = 1, max_pieces: int = 6, allow_nul: bool = False, nonblank: bool = True
) -> st.SearchStrategy[str]:
    """Arbitrary unicode mixed with control characters, escape sequences and markup.
    By default what a store accepts: no NUL, no lone surrogate, not only whitespace
    (required text fields refuse blank strings)."""
    text = st.lists(_pieces(allow_nul), min_size=min_pieces, max_size=max_pieces).map("".join)
    if nonblank:
        text = text.filter(lambda s: s.strip() != "")
    return text


def hostile_id(*, max_size: int = 200) -> st.SearchStrategy[str]:
    """A hostile string usable as an id (session, agent, memory, working-memory key):
    no '/', not '.' or '..', at most `max_size` characters."""
    return hostile_text(max_pieces=4).filter(
        lambda s: "/" not in s and s.strip() not in (".", "..") and len(s) <= max_size
    )


def deep_json(depth: int, leaf: Any = 1) -> Any:
    """`{"a": {"a": ... leaf}}` with `depth` levels of objects (built without recursion)."""
    value: Any = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def deep_json_text(depth: int) -> str:
    """The JSON text of `deep_json(depth)`, built as a string (json.dumps of a value this
    deep would itself hit the recursion limit)."""
    return '{"a":' * depth + "1" + "}" * depth


def shown(text: str, *, multiline: bool = False) -> str:
    """What a terminal front end shows for stored `text`."""
    return visible_text(text) if multiline else visible_line(text)
