"""JSON nesting limits: what a client may store, and how anything already stored is read.

A JSON value nested a few hundred levels deep is accepted by `json.loads` but breaks
`json.dumps`, `dataclasses.asdict` and any recursive walk (Python's recursion limit),
and one such row would then break every feed and list that includes it. So:

- Writes: every JSON field a client stores (memory and session metadata, working-memory
  values, agent config) may be nested at most `MAX_JSON_DEPTH` levels. `json_depth`
  measures without recursion; the store refuses deeper values naming the field.
- Reads: `loads_stored` parses JSON read back from a store and never fails. Parts nested
  deeper than `READ_DEPTH_LIMIT` (rows written before the limit existed, or straight
  into the database) are replaced by the visible marker `DEPTH_MARKER`; text that is not
  JSON at all becomes `INVALID_JSON_MARKER`; NaN and Infinity (which strict JSON
  writers refuse) are read as the strings "NaN", "Infinity". So any stored row still
  serialises.
- Request bodies: `deep_json_path` finds where a JSON text passes a depth, for a body so
  deep that `json.loads` itself gave up (RecursionError), so the 400 can name the field.

Depth counts containers: `1` and `"x"` are 0 deep, `{}` and `{"a": 1}` are 1, and
`{"a": [1]}` is 2.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "DEPTH_MARKER",
    "INVALID_JSON_MARKER",
    "MAX_JSON_DEPTH",
    "READ_DEPTH_LIMIT",
    "clip_depth",
    "deep_json_path",
    "json_depth",
    "loads_stored",
]

MAX_JSON_DEPTH = 64
# Reads cut deeper than this. Above MAX_JSON_DEPTH so that a value at the write limit,
# wrapped in a change-feed row (`{"data": {"metadata": ...}}`), is never cut; far below
# what json.dumps and dataclasses.asdict can handle under the default recursion limit.
READ_DEPTH_LIMIT = 100
DEPTH_MARKER = f"[memtui: nested deeper than {READ_DEPTH_LIMIT} levels, not shown]"
INVALID_JSON_MARKER = "[memtui: stored value is not valid JSON, not shown]"


def json_depth(value: Any, *, stop_above: int | None = None) -> int:
    """How deeply `value` nests dicts and lists (iterative: any depth is fine). With
    `stop_above`, stops as soon as the depth is known to exceed it and returns
    `stop_above + 1`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if stop_above is not None and depth > stop_above:
                return stop_above + 1
        stack.extend((child, depth) for child in children if isinstance(child, dict | list | tuple))
    return deepest


def clip_depth(value: Any, limit: int = READ_DEPTH_LIMIT) -> Any:
    """`value` with every container that would sit deeper than `limit` levels replaced
    by `DEPTH_MARKER`. Returns `value` itself when nothing needs cutting."""
    if json_depth(value, stop_above=limit) <= limit:
        return value
    return _clipped_copy(value, limit)


def _clipped_copy(value: Any, limit: int) -> Any:
    # Copy iteratively: (source container, its copy, depth of the copy).
    def shell(item: Any) -> Any:
        return {} if isinstance(item, dict) else []

    if not isinstance(value, dict | list | tuple):
        return value
    if limit < 1:
        return DEPTH_MARKER
    root = shell(value)
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        source, target, depth = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            if isinstance(child, dict | list | tuple):
                if depth + 1 > limit:
                    copied: Any = DEPTH_MARKER
                else:
                    copied = shell(child)
                    stack.append((child, copied, depth + 1))
            else:
                copied = child
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def loads_stored(text: str | bytes | int | float) -> Any:
    """`json.loads` for JSON read back from a store: never raises, never returns a value
    nested deeper than READ_DEPTH_LIMIT (those parts become DEPTH_MARKER), and text that
    is not JSON becomes INVALID_JSON_MARKER. Use it as the engine's json_deserializer."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str):
        # SQLite's NUMERIC affinity hands a stored `1` back as a number already.
        return text if isinstance(text, int | float) else INVALID_JSON_MARKER
    # Fewer opening brackets than the limit cannot nest deeper than it: no walk needed.
    # (str.count is C-fast; almost every stored value takes this path.)
    if text.count("{") + text.count("[") <= READ_DEPTH_LIMIT:
        try:
            return json.loads(text, parse_constant=str)
        except ValueError:
            return INVALID_JSON_MARKER
    try:
        value = json.loads(text, parse_constant=str)
    except RecursionError:
        return _loads_cut(text)
    except ValueError:
        return INVALID_JSON_MARKER
    return clip_depth(value)


# JSON tokens that matter for nesting: strings (skipped whole) and brackets.
_NESTING_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _loads_cut(text: str) -> Any:
    """Parses JSON too deep for json.loads: every container opened below the limit is
    replaced (in the text) by the marker string, then the shallow rest is parsed."""
    pieces: list[str] = []
    depth = 0
    cut_from = -1  # where the container being cut started
    written = 0
    for match in _NESTING_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth == READ_DEPTH_LIMIT + 1 and cut_from < 0:
                cut_from = match.start()
        elif token in "]}":
            if depth == READ_DEPTH_LIMIT + 1 and cut_from >= 0:
                pieces.append(text[written:cut_from])
                pieces.append(json.dumps(DEPTH_MARKER))
                written = match.end()
                cut_from = -1
            depth -= 1
    if cut_from >= 0:  # unbalanced: not JSON
        return INVALID_JSON_MARKER
    pieces.append(text[written:])
    try:
        return json.loads("".join(pieces), parse_constant=str)
    except (ValueError, RecursionError):
        return INVALID_JSON_MARKER


def deep_json_path(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> tuple[str, int] | None:
    """Where the JSON `text` first holds a field nested deeper than `limit`: that field's
    dotted path (`metadata`, `value`, `memories.3.metadata`; "" for the body itself) and
    how deep the field's value nests. None if nothing is deeper than `limit` levels
    below the top. It only tokenizes, so it works on text too deep for json.loads."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    path: list[str | int] = []  # per open container: the key or index of its current child
    last_string = ""
    field: list[str | int] | None = None
    deepest = 0
    for match in _PATH_TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            last_string = token
        elif token == ":":
            if path:
                path[-1] = _decoded_key(last_string)
        elif token == ",":
            if path and isinstance(path[-1], int):
                path[-1] += 1
        elif token in "[{":
            if field is None and len(path) > limit:
                # Deep enough to matter: measure it below the field it belongs to.
                candidate = _field_of(path)
                if len(path) + 1 - len(candidate) > limit:
                    field = candidate
            path.append(0 if token == "[" else "")
            deepest = max(deepest, len(path))
        else:
            if not path:
                break  # unbalanced: stop where the structure ends
            path.pop()
            if field is not None and len(path) <= len(field):
                break  # the too-deep field has closed
    if field is None:
        return None
    return ".".join(str(part) for part in field), deepest - len(field)


_PATH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def _decoded_key(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def _field_of(location: list[str | int]) -> list[str | int]:
    """The field a client set, from the location of a too-deep container: up to the
    first object key (`metadata`), or through a top-level list of items to the item's
    key (`memories.3.metadata`)."""
    for position, part in enumerate(location):
        if isinstance(part, str):
            rest = location[position + 1 :]
            through_list = len(rest) >= 2 and isinstance(rest[0], int)
            if position == 0 and through_list and isinstance(rest[1], str):
                return location[:3]
            return location[: position + 1]
    return []  # the body itself
