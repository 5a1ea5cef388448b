"""tests.helpers.hostile: the shared corpus holds what it promises (other tests rely on it)."""

from __future__ import annotations

import json

from hypothesis import given

from memtui.domain.safe_text import has_controls
from tests.helpers.hostile import (
    ISSUE_STRINGS,
    REFUSED_STRINGS,
    STORABLE_STRINGS,
    deep_json,
    deep_json_text,
    hostile_id,
    hostile_text,
)


def test_corpus_holds_the_issue_strings_and_refused_ones_apart() -> None:
    assert "[WIP] fix login" in STORABLE_STRINGS and "\x1b]52;c;aGk=\x07" in STORABLE_STRINGS
    assert "a\x00b" in ISSUE_STRINGS and "a\x00b" in REFUSED_STRINGS
    assert not set(REFUSED_STRINGS) & set(STORABLE_STRINGS)
    assert sum(has_controls(s) for s in STORABLE_STRINGS) >= 10


def test_deep_json_has_the_depth_asked_for() -> None:
    assert deep_json(2) == {"a": {"a": 1}}
    assert json.loads(deep_json_text(3)) == deep_json(3)


@given(hostile_text())
def test_hostile_text_is_storable(text: str) -> None:
    assert text.strip() and "\x00" not in text
    text.encode("utf-8")  # no lone surrogate


@given(hostile_id())
def test_hostile_ids_have_no_slash(text: str) -> None:
    assert "/" not in text and text.strip() not in (".", "..")
