"""Input checks every backend runs before it writes anything (the SQL store, and the
built-in operations of `memtui.backend.BackendBase`).

Each raises InvalidInputError naming the field and the bad value, so nothing is ever
half-written and the user learns exactly what to fix.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import NewMemory, SnapshotEvent
from memtui.domain.safe_json import MAX_JSON_DEPTH, json_depth

# Type names: letters, digits, '_', '-', '.'; at most 64. The server's request models
# use the same pattern, so HTTP and the store refuse the same names.
TYPE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_TYPE_NAME = re.compile(TYPE_NAME_PATTERN)
MAX_ID_LENGTH = 200
MAX_TAG_LENGTH = 200


def _where(index: int | None) -> str:
    return "" if index is None else f" (memory #{index + 1})"


# Text a store cannot hold as text: NUL (PostgreSQL refuses it in text columns, and
# SQLite would then disagree) and lone surrogates (not encodable as UTF-8). Inside JSON
# values both are kept exactly (escaped as \u0000 / \ud800 in the stored JSON text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_storable(name: str, value: str, *, index: int | None = None) -> str:
    """Refuses a string holding a NUL character or a lone surrogate, naming the field."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = (
            "a NUL character (\\x00)"
            if found.group() == "\x00"
            else f"a lone surrogate (U+{ord(found.group()):04X})"
        )
        raise InvalidInputError(
            f"{name} contains {what} at position {found.start()}, which cannot be stored "
            f"as text{_where(index)}",
            field=name,
            value=value[:40],
        )
    return value


def check_optional_text(name: str, value: Any, *, max_length: int = 0) -> str | None:
    """An optional string field (None allowed; empty allowed)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{name} must be a string, got {type(value).__name__}", field=name, value=value
        )
    if max_length and len(value) > max_length:
        raise InvalidInputError(
            f"{name} is longer than {max_length} characters", field=name, value=value[:40] + "…"
        )
    return check_storable(name, value)


def check_text(name: str, value: Any, *, index: int | None = None, max_length: int = 0) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"{name} must be a non-empty string, got {value!r}{_where(index)}",
            field=name,
            value=value,
        )
    if max_length and len(value) > max_length:
        raise InvalidInputError(
            f"{name} is longer than {max_length} characters{_where(index)}",
            field=name,
            value=value[:40] + "…",
        )
    return check_storable(name, value, index=index)


def check_id(name: str, value: Any, *, index: int | None = None) -> str:
    """An id a client chooses (session, agent, memory): it appears in URL paths, so a
    '/' (or a bare '.' / '..') would make it unreachable over HTTP: refused."""
    check_text(name, value, index=index, max_length=MAX_ID_LENGTH)
    if "/" in value or value.strip() in (".", ".."):
        raise InvalidInputError(
            f"{name} {value[:60]!r} cannot contain '/' or be '.' or '..' (ids appear in "
            f"URL paths){_where(index)}",
            field=name,
            value=value,
        )
    return value


def check_type_name(name: str, value: Any, *, index: int | None = None) -> str:
    if not isinstance(value, str) or not _TYPE_NAME.match(value):
        raise InvalidInputError(
            f"{name} {value!r} is not a valid type name (letters, digits, '_', '-', '.', "
            f"at most 64){_where(index)}",
            field=name,
            value=value,
        )
    return value


def check_importance(
    value: Any, *, index: int | None = None, required: bool = False
) -> float | None:
    if value is None and not required:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and 0.0 <= value <= 1.0)
    ):
        raise InvalidInputError(
            f"importance must be a number from 0 to 1, got {value!r}{_where(index)}",
            field="importance",
            value=value,
        )
    return float(value)


def check_json_depth(name: str, value: Any, *, index: int | None = None) -> None:
    depth = json_depth(value, stop_above=MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(
            f"{name} is nested more than {MAX_JSON_DEPTH} levels deep; the limit is "
            f"{MAX_JSON_DEPTH} levels of objects and lists{_where(index)}",
            field=name,
            value=None,
        )


def check_json(name: str, value: Any, *, index: int | None = None, copy: bool = True) -> Any:
    """Values must survive a JSON round trip (no NaN, no objects, string keys) and nest
    at most MAX_JSON_DEPTH levels. Returns the round-tripped value (what a reader will
    get back) unless `copy=False`."""
    check_json_depth(name, value, index=index)
    try:
        encoded = json.dumps(value, allow_nan=False)
        return json.loads(encoded) if copy else value
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} is not JSON-serialisable ({exc}){_where(index)}", field=name, value=value
        ) from None


def check_object(
    name: str, value: Any, *, index: int | None = None, copy: bool = True
) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{name} must be a JSON object, got {type(value).__name__}{_where(index)}",
            field=name,
            value=value,
        )
    return check_json(name, value, index=index, copy=copy)


def check_tags(value: Any, *, index: int | None = None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInputError(
            f"tags must be a list of strings, got {value!r}{_where(index)}",
            field="tags",
            value=value,
        )
    tags: list[str] = []
    for tag in value:
        check_text("tag", tag, index=index, max_length=MAX_TAG_LENGTH)
        if tag not in tags:  # a tag counts once
            tags.append(tag)
    return tags


def check_string_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInputError(
            f"{name} must be a list of strings, got {value!r}", field=name, value=value
        )
    for item in value:
        if not isinstance(item, str):
            raise InvalidInputError(
                f"{name} must contain only strings, got {item!r}", field=name, value=item
            )
        check_storable(name, item)
    return list(value)


def check_new_memory(memory: NewMemory, index: int | None = None) -> None:
    check_text("agent_id", memory.agent_id, index=index, max_length=MAX_ID_LENGTH)
    check_text("content", memory.content, index=index)
    check_type_name("memory_type", memory.memory_type, index=index)
    check_type_name("event_type", memory.event_type, index=index)
    for name in ("session_id", "parent_id", "dedup_key"):
        value = getattr(memory, name)
        if value is not None:
            check_text(name, value, index=index, max_length=MAX_ID_LENGTH)
    if memory.id is not None:
        check_id("id", memory.id, index=index)
    check_importance(memory.importance, index=index)
    check_tags(memory.tags, index=index)
    check_object("metadata", memory.metadata, index=index, copy=False)


def check_snapshot_event(event: Any) -> str:
    allowed = [e.value for e in SnapshotEvent]
    if event not in allowed:
        raise InvalidInputError(
            f"snapshot event {event!r} is not one of {', '.join(allowed)}",
            field="event",
            value=event,
        )
    return str(event)


def check_positive_duration(name: str, value: Any) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInputError(
            f"{name} must be a positive duration, got {value!r}", field=name, value=value
        )
    return value
