"""memtui.domain.safe_json: depth limits, and reading any stored JSON without failing."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from memtui.domain.safe_json import (
    DEPTH_MARKER,
    INVALID_JSON_MARKER,
    READ_DEPTH_LIMIT,
    clip_depth,
    deep_json_path,
    json_depth,
    loads_stored,
)
from tests.helpers.hostile import deep_json, deep_json_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


def test_depth_counts_containers() -> None:
    assert json_depth(1) == 0 and json_depth("x") == 0
    assert json_depth({}) == 1 and json_depth({"a": 1}) == 1
    assert json_depth({"a": [1]}) == 2 and json_depth([[], [[]]]) == 3
    assert json_depth(deep_json(50_000)) == 50_000  # no recursion
    assert json_depth(deep_json(50_000), stop_above=64) == 65


@given(JSON_VALUES)
def test_shallow_values_are_read_back_exactly(value: object) -> None:
    text = json.dumps(value)
    assert loads_stored(text) == value
    assert clip_depth(value) is value


def test_deep_stored_values_are_cut_at_the_read_limit_with_a_marker() -> None:
    for depth in (READ_DEPTH_LIMIT + 1, 600, 5000, 100_000):
        value = loads_stored('{"m":' + deep_json_text(depth) + "}")
        assert json_depth(value) == READ_DEPTH_LIMIT
        json.dumps(value)  # serialises
        inner = value
        for _ in range(READ_DEPTH_LIMIT - 1):
            inner = next(iter(inner.values()))
        assert inner == {"a": DEPTH_MARKER}
    # Text that is not JSON at all, or a number SQLite already converted.
    assert loads_stored("{not json") == INVALID_JSON_MARKER
    assert loads_stored("[" * 5000) == INVALID_JSON_MARKER
    assert loads_stored(7) == 7
    assert loads_stored(b'{"x": "\\u0000"}') == {"x": "\x00"}
    # Brackets inside strings do not count as nesting.
    assert loads_stored(json.dumps({"s": "{[" * 500})) == {"s": "{[" * 500}


def test_deep_json_path_names_the_field() -> None:
    body = '{"agent_id":"p","content":"{[","metadata":' + deep_json_text(600) + "}"
    assert deep_json_path(body) == ("metadata", 600)
    batch = '{"memories":[{"content":"a"},{"metadata":' + deep_json_text(70) + "}]}"
    assert deep_json_path(batch) == ("memories.1.metadata", 70)
    assert deep_json_path('{"value":' + deep_json_text(64) + "}") is None
    assert deep_json_path("[" * 70 + "]" * 70) == ("", 70)
