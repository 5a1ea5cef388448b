"""What goes into a context, and in which order it is considered: the request's
window and types checked (`validate_context_request` -> `ContextWindow`, which a
store turns into its query), and the priority order (`sort_by_priority`: importance,
then the most recent, then the highest id)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    ENCODINGS,
    ContextRequest,
    Order,
)
from memtui.domain.timewindow import parse_time_bound


class ContextMemory(Protocol):
    """What the engine reads of a memory. `Memory` is one; the store hands the engine
    lighter rows with just these fields (see SqlStore.build_context).

    `time` only orders bullets within a section, so anything that sorts chronologically
    and consistently within one build will do: datetimes, or SQLite's fixed-width UTC
    text as stored."""

    @property
    def id(self) -> str: ...
    @property
    def time(self) -> Any: ...
    @property
    def content(self) -> str: ...
    @property
    def memory_type(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def importance(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ContextWindow:
    """A validated context request's filters; the store selects memories with them."""

    since: datetime | None = None
    until: datetime | None = None
    include_types: tuple[str, ...] = ()  # empty: every type
    exclude_types: tuple[str, ...] = ()  # wins over include_types


DEFAULT_IMPORTANCE = 0.5  # what a memory without importance counts as when budgeting


def _type_names(
    values: Iterable[str] | None, field: str, known: Collection[str]
) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise InvalidInputError(
            f"invalid {field} {values!r}: expected a list of memory types",
            field=field,
            value=values,
        )
    names: list[str] = []
    for value in values:
        if not isinstance(value, str) or value not in known:
            raise InvalidInputError(
                f"unknown memory type {value!r} in {field}; "
                f"known types: {', '.join(sorted(known))}",
                field=field,
                value=value,
            )
        if value not in names:
            names.append(value)
    return tuple(names)


def validate_context_request(
    request: ContextRequest, now: datetime, known_types: Collection[str]
) -> ContextWindow:
    """Checks every field of `request`; InvalidInputError names the bad value.

    An empty `since`/`until` string means "not given" (some clients send "")."""
    since = parse_time_bound(request.since, now, field="since") if request.since else None
    until = parse_time_bound(request.until, now, field="until") if request.until else None
    if since is not None and until is not None and since > until:
        raise InvalidInputError(
            f"invalid window: since {request.since!r} ({since.isoformat()}) is after "
            f"until {request.until!r} ({until.isoformat()})",
            field="since",
            value=request.since,
        )
    include_types = _type_names(request.include_types, "include_types", known_types)
    exclude_types = _type_names(request.exclude_types, "exclude_types", known_types)
    if request.order not in (Order.ASC.value, Order.DESC.value):
        raise InvalidInputError(
            f"invalid order {request.order!r}: use asc or desc", field="order", value=request.order
        )
    max_tokens = request.max_tokens
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise InvalidInputError(
            f"invalid max_tokens {max_tokens!r}: use a positive whole number",
            field="max_tokens",
            value=max_tokens,
        )
    if request.encoding not in ENCODINGS:
        raise InvalidInputError(
            f"unknown encoding {request.encoding!r}; known encodings: {', '.join(ENCODINGS)}",
            field="encoding",
            value=request.encoding,
        )
    return ContextWindow(
        since=since, until=until, include_types=include_types, exclude_types=exclude_types
    )


def importance_of(memory: ContextMemory) -> float:
    return DEFAULT_IMPORTANCE if memory.importance is None else memory.importance


_M = TypeVar("_M", bound=ContextMemory)


_BY_TIME_THEN_ID = attrgetter("time", "id")


def sort_by_priority(memories: Iterable[_M]) -> list[_M]:
    """Importance desc (None = 0.5), then time desc, then id desc; stable otherwise.

    Two stable sorts, the first on a C key (attrgetter): measured faster at 10k
    memories than one sort on a Python tuple key."""
    ordered = sorted(memories, key=_BY_TIME_THEN_ID, reverse=True)
    ordered.sort(key=importance_of, reverse=True)
    return ordered
