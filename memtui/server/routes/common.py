"""What every route module shares: the server context, responses, error documentation,
path and query parameter types, and the one dependency for memory query parameters
(`MemoryFilters` + `MemoryPaging`: a new memory filter is one field there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from memtui.backend import Backend
from memtui.domain.models import MemoryQuery
from memtui.server import schemas as s
from memtui.server.params import parse_cursor, parse_time, split_list
from memtui.server.responses import StoredDataJSONResponse

DEFAULT_LIST_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 50
MAX_LIST_LIMIT = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="page size, 1 to 1000")]
OrderParam = Annotated[Literal["asc", "desc"], Query(description="by time")]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]
SessionIdPath = IdPath
KeyPath = Annotated[str, Path(min_length=1, max_length=500)]


@dataclass
class ServerContext:
    backend: Backend

    def now(self) -> datetime:
        return self.backend.now()


def ok(data: Any, status: int = 200) -> JSONResponse:
    return StoredDataJSONResponse(data, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


def reraise_pydantic(exc: ValidationError, prefix: tuple[Any, ...]) -> RequestValidationError:
    errors = []
    for error in exc.errors():
        errors.append({**error, "loc": ("body", *prefix, *error.get("loc", ()))})
    return RequestValidationError(errors)


COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": s.ErrorBody, "description": "a bad body or parameter (the field is named)"},
    401: {"model": s.ErrorBody, "description": "missing or invalid API key"},
    # Also for a path parameter holding an encoded '/', which then matches no route.
    404: {"model": s.ErrorBody, "description": "not found"},
    413: {"model": s.ErrorBody, "description": "request body too large"},
    500: {"model": s.ErrorBody, "description": "internal error"},
    503: {"model": s.ErrorBody, "description": "the store is unavailable (busy or unreachable)"},
}
NOT_FOUND = {404: {"model": s.ErrorBody, "description": "not found"}}
CONFLICT = {409: {"model": s.ErrorBody, "description": "conflict"}}
WM_CONFLICT = {
    409: {
        "model": s.WorkingMemoryConflictBody,
        "description": "stale expected_version (or the new key exists)",
    }
}


# --- memory query parameters -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemoryPaging:
    limit: int = DEFAULT_LIST_LIMIT
    offset: int = 0
    order: str = "desc"
    after: str | None = None


@dataclass(frozen=True, slots=True)
class MemoryFilters:
    """The filters of every route that lists or counts memories (GET /memories,
    /memories/count, /agents/{id}/memories, /sessions/{id}/memories), as raw query
    strings; `query` turns them into a MemoryQuery, naming a bad value's field."""

    memory_type: str | None = None
    event_type: str | None = None
    tags: str | None = None
    since: str | None = None
    until: str | None = None
    exclude_types: str | None = None
    content_contains: str | None = None
    min_importance: float | None = None

    def query(
        self,
        ctx: ServerContext,
        *,
        agent_id: str | None = None,
        session_id: str | None = None,
        paging: MemoryPaging | None = None,
        since_default: str | None = None,
    ) -> MemoryQuery:
        now = ctx.now()
        paging = paging or MemoryPaging()
        since = self.since if self.since is not None else since_default
        return MemoryQuery(
            agent_id=agent_id or None,
            session_id=session_id or None,
            memory_types=split_list(self.memory_type),
            exclude_types=split_list(self.exclude_types),
            event_types=split_list(self.event_type),
            tags=split_list(self.tags),
            content_contains=self.content_contains or None,
            min_importance=self.min_importance,
            since=parse_time("since", since, now),
            until=parse_time("until", self.until, now),
            order=paging.order,
            limit=paging.limit,
            offset=paging.offset,
            after=parse_cursor(paging.after),
        )


def memory_filters(
    memory_type: Annotated[str | None, Query(description="one type (comma list ok)")] = None,
    event_type: str | None = None,
    tags: Annotated[str | None, Query(description="comma list; all must match")] = None,
    since: Annotated[str | None, Query(description="30m, 2h, 7d or ISO 8601")] = None,
    until: Annotated[str | None, Query(description="30m, 2h, 7d or ISO 8601")] = None,
    exclude_types: Annotated[str | None, Query(description="memtui: comma list")] = None,
    content_contains: Annotated[str | None, Query(description="memtui: substring")] = None,
    min_importance: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> MemoryFilters:
    return MemoryFilters(
        memory_type=memory_type,
        event_type=event_type,
        tags=tags,
        since=since,
        until=until,
        exclude_types=exclude_types,
        content_contains=content_contains,
        min_importance=min_importance,
    )


def memory_paging(
    limit: Limit = DEFAULT_LIST_LIMIT,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    order: OrderParam = "desc",
    after: Annotated[str | None, Query(description="memtui: cursor (next_cursor)")] = None,
) -> MemoryPaging:
    return MemoryPaging(limit=limit, offset=offset, order=order, after=after)


MemoryFiltersParam = Annotated[MemoryFilters, Depends(memory_filters)]
MemoryPagingParam = Annotated[MemoryPaging, Depends(memory_paging)]


def memory_page_json(page: Any) -> dict[str, Any]:
    memories = [m.to_json() for m in page.memories]
    return {
        "memories": memories,
        "count": len(memories),
        "has_more": page.has_more,
        "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
    }
