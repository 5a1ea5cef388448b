"""The wire shapes of memtui's HTTP API and Memtrace v1, shared by both clients:
request bodies and parameters, checks of what JSON can carry, objects from responses,
and the synthetic ids a plain Memtrace server's memories get."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from memtui.domain.errors import InvalidInputError, VersionConflictError
from memtui.domain.models import (
    Memory,
    MemoryQuery,
    NewMemory,
    Snapshot,
    WorkingMemoryItem,
    dt_to_json,
)

SYNTHETIC_ID_PREFIX = "mtr_"
OFFSET_CURSOR_PREFIX = "offset:"


def segment(value: str) -> str:
    """One URL path segment: keys and ids may contain '/', spaces, anything."""
    return quote(value, safe="")


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def check_json(field: str, value: Any, *, index: int | None = None) -> Any:
    """Refuse what JSON cannot carry (sets, NaN, objects) here, naming the field, rather
    than failing inside the HTTP client with a raw TypeError."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        where = f" (memory {index})" if index is not None else ""
        raise InvalidInputError(
            f"{field} must be plain JSON{where}: {exc}", field=field, value=value
        ) from None
    return value


def check_tags(tags: Any, *, index: int | None = None) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, list | tuple):
        where = f" (memory {index})" if index is not None else ""
        raise InvalidInputError(
            f"tags must be a list of strings, got {tags!r}{where}", field="tags", value=tags
        )
    if not all(isinstance(tag, str) for tag in tags):
        raise InvalidInputError(
            f"tags must be a list of strings, got {tags!r}", field="tags", value=tags
        )
    return list(tags)


def synthetic_memory_id(data: dict[str, Any]) -> str:
    basis = "\x1f".join(
        str(data.get(name) or "")
        for name in ("time", "agent_id", "session_id", "memory_type", "event_type", "content")
    )
    return SYNTHETIC_ID_PREFIX + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def memory_params(query: MemoryQuery) -> dict[str, Any]:
    return drop_none(
        {
            "agent_id": query.agent_id,
            "session_id": query.session_id,
            "memory_type": ",".join(query.memory_types) or None,
            "exclude_types": ",".join(query.exclude_types) or None,
            "event_type": ",".join(query.event_types) or None,
            "tags": ",".join(query.tags) or None,
            "content_contains": query.content_contains,
            "min_importance": query.min_importance,
            "since": dt_to_json(query.since),
            "until": dt_to_json(query.until),
            "order": query.order,
            "limit": query.limit,
            "after": query.after.encode() if query.after is not None else None,
            "offset": query.offset or None,
        }
    )


def matches_locally(memory: Memory, query: MemoryQuery) -> bool:
    """The filters a plain Memtrace server cannot apply itself."""
    if len(query.memory_types) > 1 and memory.memory_type not in query.memory_types:
        return False
    if len(query.event_types) > 1 and memory.event_type not in query.event_types:
        return False
    if query.exclude_types and memory.memory_type in query.exclude_types:
        return False
    if query.content_contains and query.content_contains.lower() not in memory.content.lower():
        return False
    return not (
        query.min_importance is not None
        and (memory.importance is None or memory.importance < query.min_importance)
    )


def new_memory_json(memory: NewMemory, *, with_id: bool, index: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agent_id": memory.agent_id,
        "content": memory.content,
        "memory_type": memory.memory_type,
        "event_type": memory.event_type,
        "session_id": memory.session_id,
        "tags": check_tags(memory.tags, index=index),
        "importance": memory.importance,
        "metadata": check_json("metadata", dict(memory.metadata or {}), index=index),
        "parent_id": memory.parent_id,
        "dedup_key": memory.dedup_key,
        "time": dt_to_json(memory.time),
    }
    if with_id:
        data["id"] = memory.id
    return drop_none(data)


def wm_item_from_json(data: dict[str, Any], session_id: str) -> WorkingMemoryItem:
    return WorkingMemoryItem.from_json({"session_id": session_id, **data})


def snapshot_from_json(data: dict[str, Any], session_id: str | None = None) -> Snapshot:
    if session_id is not None:
        data = {"session_id": session_id, **data}
    return Snapshot.from_json(data)


class own_session:  # noqa: N801 - used as a context manager, reads like one
    """Fill in the session id of the item a VersionConflictError carries (the 409 body
    has the item without it)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        if (
            isinstance(exc, VersionConflictError)
            and exc.current is not None
            and not exc.current.session_id
        ):
            exc.current = replace(exc.current, session_id=self.session_id)
