"""memtui.domain.safe_text: stored text never reaches a terminal as control codes."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from memtui.domain.safe_text import has_controls, visible_line, visible_text


def test_escape_sequences_from_the_issue_become_visible() -> None:
    assert visible_line("\x1b]0;TITLE\x07") == "␛]0;TITLE␇"
    assert visible_line("\x1b]52;c;aGk=\x07") == "␛]52;c;aGk=␇"
    assert visible_line("\x1b[2J") == "␛[2J"
    assert visible_line("\x1b[31mx") == "␛[31mx"
    assert visible_line("a\x00b") == "a␀b"
    assert visible_line("\x7f") == "␡"


def test_c1_controls_bidi_overrides_separators_and_surrogates_show_as_code_points() -> None:
    assert visible_line("\x9b2J") == "<U+009B>2J"  # 8-bit CSI
    assert visible_line("\x85") == "<U+0085>"
    assert visible_line("abc\u202edef") == "abc<U+202E>def"
    assert visible_line("a\u2066b\u2069") == "a<U+2066>b<U+2069>"
    assert visible_line("a\u2028b") == "a<U+2028>b"
    assert visible_line("\ud800") == "<U+D800>"


def test_visible_line_replaces_newlines_and_tabs_visible_text_keeps_them() -> None:
    assert visible_line("one\ntwo\tthree\r") == "one␊two␉three␍"
    assert visible_text("one\ntwo\tthree\r\n\x1b[2J") == "one\ntwo\tthree␍\n␛[2J"


def test_ordinary_text_is_returned_unchanged() -> None:
    for text in [
        "",
        "[WIP] fix login",
        "arr[0",
        "[ @click=app.quit]x",
        "héllo 日本語 👩‍💻",
        "שלום",
    ]:
        assert visible_line(text) is text or visible_line(text) == text
        assert visible_text(text) == text
        assert not has_controls(text)


# Any code point, lone surrogates included (st.characters leaves those out by default).
ANY_CHARACTER = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0, max_codepoint=0xA0),
    st.sampled_from(["\ud800", "\udfff", "\u2028", "\u202e", "\u2066", "\x9b"]),
)


@given(st.text(alphabet=ANY_CHARACTER, max_size=200))
def test_nothing_a_terminal_acts_on_survives(text: str) -> None:
    for shown in (visible_line(text), visible_text(text)):
        assert not any(
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in shown
        )
        assert not any(ch in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e" for ch in shown)
        shown.encode("utf-8")  # printable to any UTF-8 terminal, never raises
    assert "\n" not in visible_line(text) and "\t" not in visible_line(text)
    # Text without control characters is not touched; text with them always changes.
    assert (visible_line(text) == text) is (not has_controls(text))
