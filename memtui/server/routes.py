"""The routes: Memtrace v1 (`memtrace_router`) and memtui's extensions
(`extension_router`), all under /api/v1.

Route functions are sync (FastAPI runs them in its threadpool; backends are
thread-safe) and return ready JSON built from the domain's `to_json()` shapes. The
`response_model`s only document those shapes in /openapi.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from memtui.backend import Backend
from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    MEMTRACE_MEMORY_TYPES,
    ContextRequest,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
)
from memtui.server import schemas as s
from memtui.server.errors import parse_json_body
from memtui.server.params import parse_cursor, parse_duration, parse_time, split_list
from memtui.server.responses import StoredDataJSONResponse

DEFAULT_LIST_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 50
MAX_LIST_LIMIT = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="page size, 1 to 1000")]
OrderParam = Annotated[Literal["asc", "desc"], Query(description="by time")]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=200)]
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


def _reraise_pydantic(exc: ValidationError, prefix: tuple[Any, ...]) -> RequestValidationError:
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


# --- Memtrace v1 -----------------------------------------------------------------------


def memtrace_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(tags=["memtrace v1"])
    backend = ctx.backend

    def new_memory(item: s.MemoryIn) -> NewMemory:
        memory_type = item.memory_type or MEMTRACE_MEMORY_TYPES[0]
        return NewMemory(
            agent_id=item.agent_id,
            content=item.content,
            memory_type=memory_type,
            event_type=item.event_type or "general",
            session_id=item.session_id or None,
            tags=list(item.tags or []),
            importance=item.importance,
            metadata=dict(item.metadata or {}),
            parent_id=item.parent_id or None,
            dedup_key=item.dedup_key or None,
            time=item.time,
            id=item.id,
        )

    def memory_page_json(page: MemoryPage, limit: int) -> dict[str, Any]:
        memories = [m.to_json() for m in page.memories]
        return {
            "memories": memories,
            "count": len(memories),
            "has_more": page.has_more,
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }

    # Documented as one memory or a batch; parsed by hand so that errors name the
    # field of the shape actually sent (a union would report both shapes' errors).
    memory_body_schema = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/MemoryIn"},
                        {"$ref": "#/components/schemas/MemoryBatchIn"},
                    ]
                }
            }
        },
    }

    @router.post(
        "/memories",
        status_code=201,
        summary="Store one memory, or a batch as {memories: [...]}",
        response_model=s.MemoryOut | s.MemoryBatchOut,
        responses={**CONFLICT},
        openapi_extra={"requestBody": memory_body_schema},
    )
    async def create_memories(request: Request) -> Any:
        import anyio

        payload = parse_json_body(await request.body())
        if not isinstance(payload, dict):
            raise InvalidInputError(
                'the body must be a JSON object: one memory, or {"memories": [...]}'
            )
        try:
            if "memories" in payload:
                batch = s.MemoryBatchIn.model_validate(payload).memories
            else:
                batch = [s.MemoryIn.model_validate(payload)]
        except ValidationError as exc:
            raise _reraise_pydantic(exc, ()) from exc
        new_memories = [new_memory(item) for item in batch]
        stored = await anyio.to_thread.run_sync(backend.add_memories, new_memories)
        if "memories" in payload:
            items = [m.to_json() for m in stored]
            return ok({"memories": items, "count": len(items)}, 201)
        return ok(stored[0].to_json(), 201)

    def list_query(
        *,
        agent_id: str | None,
        session_id: str | None,
        memory_type: str | None,
        event_type: str | None,
        tags: str | None,
        since: str | None,
        until: str | None,
        limit: int,
        offset: int,
        order: str,
        after: str | None = None,
        exclude_types: str | None = None,
        content_contains: str | None = None,
        min_importance: float | None = None,
    ) -> MemoryQuery:
        now = ctx.now()
        return MemoryQuery(
            agent_id=agent_id or None,
            session_id=session_id or None,
            memory_types=split_list(memory_type),
            exclude_types=split_list(exclude_types),
            event_types=split_list(event_type),
            tags=split_list(tags),
            content_contains=content_contains or None,
            min_importance=min_importance,
            since=parse_time("since", since, now),
            until=parse_time("until", until, now),
            order=order,
            limit=limit,
            offset=offset,
            after=parse_cursor(after),
        )

    @router.get("/memories", response_model=s.MemoryListOut, summary="List memories")
    def list_memories(
        agent_id: str | None = None,
        session_id: str | None = None,
        memory_type: Annotated[str | None, Query(description="one type (comma list ok)")] = None,
        event_type: str | None = None,
        tags: Annotated[str | None, Query(description="comma list; all must match")] = None,
        since: Annotated[str | None, Query(description="30m, 2h, 7d or ISO 8601")] = None,
        until: Annotated[str | None, Query(description="30m, 2h, 7d or ISO 8601")] = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        order: OrderParam = "desc",
        after: Annotated[str | None, Query(description="memtui: cursor (next_cursor)")] = None,
        exclude_types: Annotated[str | None, Query(description="memtui: comma list")] = None,
        content_contains: Annotated[str | None, Query(description="memtui: substring")] = None,
        min_importance: Annotated[float | None, Query(ge=0, le=1)] = None,
    ) -> Any:
        query = list_query(
            agent_id=agent_id,
            session_id=session_id,
            memory_type=memory_type,
            event_type=event_type,
            tags=tags,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            order=order,
            after=after,
            exclude_types=exclude_types,
            content_contains=content_contains,
            min_importance=min_importance,
        )
        return ok(memory_page_json(backend.list_memories(query), limit))

    @router.get(
        "/memories/count",
        response_model=s.MemoryCountOut,
        summary="memtui: count memories matching the GET /memories filters",
        tags=["memtui extensions"],
    )
    def count_memories(
        agent_id: str | None = None,
        session_id: str | None = None,
        memory_type: str | None = None,
        event_type: str | None = None,
        tags: str | None = None,
        since: str | None = None,
        until: str | None = None,
        exclude_types: str | None = None,
        content_contains: str | None = None,
        min_importance: Annotated[float | None, Query(ge=0, le=1)] = None,
    ) -> Any:
        query = list_query(
            agent_id=agent_id,
            session_id=session_id,
            memory_type=memory_type,
            event_type=event_type,
            tags=tags,
            since=since,
            until=until,
            limit=DEFAULT_LIST_LIMIT,
            offset=0,
            order="desc",
            exclude_types=exclude_types,
            content_contains=content_contains,
            min_importance=min_importance,
        )
        return ok({"count": backend.count_memories(query)})

    @router.get(
        "/memories/{memory_id}",
        response_model=s.MemoryOut,
        responses={**NOT_FOUND},
        summary="Get one memory",
    )
    def get_memory(memory_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        return ok(backend.get_memory(memory_id).to_json())

    @router.post(
        "/search",
        response_model=s.SearchOut,
        summary="Search memories with structured filters",
    )
    def search(body: s.SearchIn | None = None) -> Any:
        body = body or s.SearchIn()
        started = time.perf_counter()
        now = ctx.now()
        limit = body.limit or DEFAULT_SEARCH_LIMIT
        query = MemoryQuery(
            agent_id=body.agent_id or None,
            session_id=body.session_id or None,
            memory_types=tuple(body.memory_types or ()),
            exclude_types=tuple(body.exclude_types or ()),
            event_types=tuple(body.event_types or ()),
            tags=tuple(body.tags or ()),
            content_contains=body.content_contains or None,
            min_importance=body.min_importance or None,
            since=parse_time("since", body.since, now),
            until=parse_time("until", body.until, now),
            order=body.order or "desc",
            limit=limit,
            after=parse_cursor(body.after),
        )
        page = backend.list_memories(query)
        results = [m.to_json() for m in page.memories]
        data: dict[str, Any] = {
            "results": results,
            "count": len(results),
            "query_time_ms": int((time.perf_counter() - started) * 1000),
            "has_more": page.has_more,
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }
        return ok(data)

    # --- agents --------------------------------------------------------------------

    @router.post(
        "/agents",
        status_code=201,
        response_model=s.AgentOut,
        responses={**CONFLICT},
        summary="Register an agent (409 if the name exists)",
    )
    def create_agent(body: s.AgentIn) -> Any:
        agent = backend.create_agent(
            body.name, description=body.description or "", config=body.config or {}
        )
        return ok(agent.to_json(), 201)

    @router.put(
        "/agents/{agent_id}",
        response_model=s.AgentOut,
        summary="memtui: get an agent by id or name, registering it (name = id) if new",
        tags=["memtui extensions"],
    )
    def ensure_agent(
        agent_id: Annotated[str, Path(min_length=1, max_length=200, pattern=s.NOT_BLANK)],
    ) -> Any:
        return ok(backend.ensure_agent(agent_id).to_json())

    @router.get("/agents", response_model=s.AgentListOut, summary="List agents")
    def list_agents() -> Any:
        agents = [a.to_json() for a in backend.list_agents()]
        return ok({"agents": agents, "count": len(agents), "has_more": False})

    @router.get(
        "/agents/{agent_id}",
        response_model=s.AgentOut,
        responses={**NOT_FOUND},
        summary="Get an agent by id or name",
    )
    def get_agent(agent_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        return ok(backend.get_agent(agent_id).to_json())

    @router.get(
        "/agents/{agent_id}/memories",
        response_model=s.MemoryListOut,
        summary="An agent's recent memories (since defaults to 24h)",
    )
    def agent_memories(
        agent_id: Annotated[str, Path(min_length=1, max_length=200)],
        memory_type: str | None = None,
        event_type: str | None = None,
        since: str = "24h",
        until: str | None = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        order: OrderParam = "desc",
        after: Annotated[str | None, Query(description="memtui: cursor")] = None,
    ) -> Any:
        query = list_query(
            agent_id=agent_id,
            session_id=None,
            memory_type=memory_type,
            event_type=event_type,
            tags=None,
            since=since,
            until=until,
            limit=limit,
            offset=0,
            order=order,
            after=after,
        )
        return ok(memory_page_json(backend.list_memories(query), limit))

    @router.get(
        "/agents/{agent_id}/stats",
        response_model=s.AgentStatsOut,
        responses={**NOT_FOUND},
        summary="Memory statistics for an agent",
    )
    def agent_stats(agent_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        return ok(backend.agent_stats(agent_id).to_json())

    @router.delete(
        "/agents/{agent_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND},
        summary="Delete an agent",
    )
    def delete_agent(agent_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        backend.delete_agent(agent_id)
        return no_content()

    # --- sessions ------------------------------------------------------------------

    @router.post(
        "/sessions",
        status_code=201,
        response_model=s.SessionOut,
        responses={**CONFLICT},
        summary="Start a session (memtui: ttl_seconds, workspace_id, session_id)",
    )
    def create_session(body: s.SessionIn) -> Any:
        if "ttl_seconds" in body.model_fields_set:
            ttl = None if body.ttl_seconds is None else timedelta(seconds=body.ttl_seconds)
        else:
            ttl = DEFAULT_SESSION_TTL
        session = backend.create_session(
            body.agent_id,
            metadata=body.metadata,
            workspace_id=body.workspace_id,
            ttl=ttl,
            session_id=body.session_id,
        )
        return ok(session.to_json(ctx.now()), 201)

    @router.get(
        "/sessions",
        response_model=s.SessionListOut,
        summary="List sessions, newest first",
    )
    def list_sessions(
        agent_id: str | None = None,
        status: Annotated[
            Literal["active", "closed", "expired"] | None, Query(description="memtui")
        ] = None,
        limit: Annotated[int | None, Query(ge=1, le=10_000, description="memtui")] = None,
    ) -> Any:
        fetch = None if limit is None else limit + 1
        sessions = backend.list_sessions(agent_id=agent_id or None, status=status, limit=fetch)
        has_more = limit is not None and len(sessions) > limit
        if limit is not None:
            sessions = sessions[:limit]
        now = ctx.now()
        items = [x.to_json(now) for x in sessions]
        return ok({"sessions": items, "count": len(items), "has_more": has_more})

    @router.get(
        "/sessions/{session_id}",
        response_model=s.SessionOut,
        responses={**NOT_FOUND},
        summary="Get a session",
    )
    def get_session(session_id: SessionIdPath) -> Any:
        return ok(backend.get_session(session_id).to_json(ctx.now()))

    @router.put(
        "/sessions/{session_id}",
        response_model=s.SessionOut,
        responses={**NOT_FOUND},
        summary="Update a session's status (active/closed) or metadata",
    )
    def update_session(session_id: SessionIdPath, body: s.SessionUpdateIn) -> Any:
        session = backend.update_session(session_id, status=body.status, metadata=body.metadata)
        return ok(session.to_json(ctx.now()))

    @router.get(
        "/sessions/{session_id}/memories",
        response_model=s.MemoryListOut,
        summary="A session's memories",
    )
    def session_memories(
        session_id: SessionIdPath,
        memory_type: str | None = None,
        event_type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        order: OrderParam = "desc",
        after: Annotated[str | None, Query(description="memtui: cursor")] = None,
    ) -> Any:
        query = list_query(
            agent_id=None,
            session_id=session_id,
            memory_type=memory_type,
            event_type=event_type,
            tags=None,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            order=order,
            after=after,
        )
        return ok(memory_page_json(backend.list_memories(query), limit))

    @router.post(
        "/sessions/{session_id}/context",
        response_model=s.ContextOut,
        responses={**NOT_FOUND},
        summary="LLM-ready markdown context (max_tokens honoured exactly)",
    )
    def session_context(session_id: SessionIdPath, body: s.ContextIn | None = None) -> Any:
        body = body or s.ContextIn()
        request = ContextRequest(
            since=body.since or None,
            until=body.until or None,
            include_types=tuple(body.include_types or ()),
            exclude_types=tuple(body.exclude_types or ()),
            max_tokens=body.max_tokens or None,
            order=body.order or "desc",
            encoding=body.encoding or ContextRequest().encoding,
        )
        return ok(backend.build_context(session_id, request).to_json())

    return router


# --- memtui extensions -----------------------------------------------------------------


def extension_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(tags=["memtui extensions"])
    backend = ctx.backend

    @router.post(
        "/sessions/{session_id}/extend",
        response_model=s.SessionOut,
        responses={
            **NOT_FOUND,
            409: {"model": s.ErrorBody, "description": "the session is closed (reopen it first)"},
        },
        summary="Add time to a session's expiry (1 h left + 6 h = 7 h left)",
    )
    def extend_session(session_id: SessionIdPath, body: s.SessionExtendIn | None = None) -> Any:
        body = body or s.SessionExtendIn()
        if body.hours is not None and body.seconds is not None:
            raise InvalidInputError("give either hours or seconds, not both", field="hours")
        if body.hours is not None:
            by = timedelta(hours=body.hours)
        elif body.seconds is not None:
            by = timedelta(seconds=body.seconds)
        else:
            by = DEFAULT_EXTEND
        try:
            return ok(backend.extend_session(session_id, by).to_json(ctx.now()))
        except InvalidInputError as exc:
            if exc.field != "by":
                raise
            field = "seconds" if body.seconds is not None else "hours"
            raise InvalidInputError(exc.message, field=field, value=exc.value) from None

    @router.delete(
        "/sessions/{session_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND},
        summary="Delete a session with its working memory and snapshots (memories stay)",
    )
    def delete_session(session_id: SessionIdPath) -> Any:
        backend.delete_session(session_id)
        return no_content()

    # --- working memory ------------------------------------------------------------

    @router.get(
        "/sessions/{session_id}/working-memory",
        response_model=s.WorkingMemoryListOut,
        responses={**NOT_FOUND},
        summary="A session's working memory, sorted by key",
    )
    def list_working_memory(session_id: SessionIdPath) -> Any:
        items = [i.to_json() for i in backend.list_working_memory(session_id)]
        return ok({"items": items, "count": len(items)})

    @router.post(
        "/sessions/{session_id}/working-memory/{key:path}/rename",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Rename a key (409 if new_key exists or the version is stale)",
    )
    def rename_working_memory(
        session_id: SessionIdPath, key: KeyPath, body: s.WorkingMemoryRenameIn
    ) -> Any:
        item = backend.rename_working_memory(
            session_id, key, body.new_key, expected_version=body.expected_version
        )
        return ok(item.to_json())

    @router.get(
        "/sessions/{session_id}/working-memory/{key:path}",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND},
        summary="One working-memory item",
    )
    def get_working_memory(session_id: SessionIdPath, key: KeyPath) -> Any:
        return ok(backend.get_working_memory(session_id, key).to_json())

    @router.put(
        "/sessions/{session_id}/working-memory/{key:path}",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Create or update a key (409 if expected_version is stale; 0 = must not exist)",
    )
    def put_working_memory(
        session_id: SessionIdPath, key: KeyPath, body: s.WorkingMemoryPutIn
    ) -> Any:
        if "value" not in body.model_fields_set:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "value"), "msg": "Field required"}]
            )
        item = backend.set_working_memory(
            session_id,
            key,
            body.value,
            importance=body.importance,
            expected_version=body.expected_version,
        )
        return ok(item.to_json())

    @router.delete(
        "/sessions/{session_id}/working-memory/{key:path}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Delete a key (optionally only at expected_version)",
    )
    def delete_working_memory(
        session_id: SessionIdPath,
        key: KeyPath,
        expected_version: Annotated[int | None, Query(ge=0, le=s.MAX_VERSION)] = None,
    ) -> Any:
        backend.delete_working_memory(session_id, key, expected_version=expected_version)
        return no_content()

    @router.post(
        "/sessions/{session_id}/commit",
        response_model=s.CommitOut,
        responses={**NOT_FOUND},
        summary="Turn working memory into long-term memories",
    )
    def commit(session_id: SessionIdPath, body: s.CommitIn | None = None) -> Any:
        body = body or s.CommitIn()
        result = backend.commit_working_memory(
            session_id, min_importance=body.min_importance, deduplicate=body.deduplicate
        )
        return ok(result.to_json())

    # --- snapshots -----------------------------------------------------------------

    @router.post(
        "/sessions/{session_id}/snapshots",
        status_code=201,
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="Save a snapshot (pre_compact, session_end or checkpoint)",
    )
    def create_snapshot(session_id: SessionIdPath, body: s.SnapshotIn) -> Any:
        snapshot = backend.create_snapshot(
            session_id,
            NewSnapshot(
                event=body.event,
                project_path=body.project_path,
                files_modified=list(body.files_modified),
                key_decisions=list(body.key_decisions),
                open_tasks=list(body.open_tasks),
            ),
        )
        return ok(snapshot.to_json(), 201)

    @router.get(
        "/sessions/{session_id}/snapshots",
        response_model=s.SnapshotListOut,
        responses={**NOT_FOUND},
        summary="A session's snapshots, newest first",
    )
    def list_snapshots(session_id: SessionIdPath) -> Any:
        snapshots = [x.to_json() for x in backend.list_snapshots(session_id)]
        return ok({"snapshots": snapshots, "count": len(snapshots)})

    @router.get(
        "/snapshots/latest",
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="The newest snapshot (of one agent)",
    )
    def latest_snapshot(agent_id: str | None = None) -> Any:
        return ok(backend.latest_snapshot(agent_id=agent_id or None).to_json())

    @router.get(
        "/snapshots/{snapshot_id}",
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="One snapshot",
    )
    def get_snapshot(snapshot_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        return ok(backend.get_snapshot(snapshot_id).to_json())

    # --- briefing, memories, types, changes ----------------------------------------

    @router.get(
        "/briefing",
        response_model=s.BriefingOut,
        summary="Recent activity, open threads, active and soon-expiring sessions",
    )
    def briefing(
        agent_id: str | None = None,
        lookback: Annotated[str, Query(description="a duration: 30m, 24h, 7d")] = "24h",
    ) -> Any:
        result = backend.briefing(
            agent_id=agent_id or None, lookback=parse_duration("lookback", lookback)
        )
        return ok(result.to_json(ctx.now()))

    @router.patch(
        "/memories/{memory_id}",
        response_model=s.MemoryOut,
        responses={**NOT_FOUND},
        summary="Edit a memory",
    )
    def patch_memory(
        memory_id: Annotated[str, Path(min_length=1, max_length=200)], body: s.MemoryPatchIn
    ) -> Any:
        patch = MemoryPatch(
            content=body.content,
            memory_type=body.memory_type,
            event_type=body.event_type,
            tags=body.tags,
            importance=body.importance,
            metadata=body.metadata,
        )
        return ok(backend.update_memory(memory_id, patch).to_json())

    @router.delete(
        "/memories/{memory_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND},
        summary="Delete a memory",
    )
    def delete_memory(memory_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Any:
        if backend.delete_memories([memory_id]) == 0:
            return ok({"error": f"memory {memory_id!r} not found"}, 404)
        return no_content()

    @router.get(
        "/memory-types",
        response_model=s.MemoryTypesOut,
        summary="Memtrace's four types plus every other stored type",
    )
    def memory_types(agent_id: str | None = None, session_id: str | None = None) -> Any:
        types = backend.list_memory_types(agent_id=agent_id or None, session_id=session_id or None)
        return ok({"memory_types": types})

    @router.get(
        "/changes",
        response_model=s.ChangeListOut,
        summary="The change feed by cursor (a polling alternative to /events)",
    )
    def changes(
        after: Annotated[int, Query(ge=0, le=s.MAX_VERSION)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        found = backend.changes_since(after, limit=limit + 1)
        has_more = len(found) > limit
        found = found[:limit]
        return ok(
            {
                "changes": [c.to_json() for c in found],
                "count": len(found),
                "has_more": has_more,
                "latest_id": backend.latest_change_id(),
            }
        )

    return router


def events_route(router: APIRouter, ctx: ServerContext, hub: Any) -> None:
    """GET /events (async: one stream per client, no threadpool thread held; at most
    `hub.max_streams` at once)."""
    from memtui.server.errors import error_response
    from memtui.server.events import STREAMS_RETRY_AFTER_SECONDS, EventStreamResponse

    @router.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "Server-sent events: `id` change id, `event` kind, "
                "`data` the change as JSON (with the object under `data`)",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
        summary="Live changes as server-sent events; resume with Last-Event-ID",
        tags=["memtui extensions"],
    )
    async def events(
        request: Request,
        last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
        last_event_id: Annotated[str | None, Query(description="same as the header")] = None,
    ) -> Any:
        import anyio

        raw = last_event_id_header or last_event_id
        if raw is None or raw.strip() == "":
            cursor = await anyio.to_thread.run_sync(ctx.backend.latest_change_id)
        else:
            try:
                cursor = int(raw.strip()) if len(raw.strip()) <= 20 else -1
                if not 0 <= cursor <= s.MAX_VERSION:
                    raise ValueError(raw)
            except ValueError:
                shown = raw if len(raw) <= 40 else raw[:40] + "…"
                raise InvalidInputError(
                    f"Last-Event-ID must be a change id (a whole number from 0 to "
                    f"{s.MAX_VERSION}), got {shown!r}",
                    field="last_event_id",
                    value=raw,
                ) from None
        handle = hub.open_stream(getattr(request.state, "api_key_id", None))
        if handle is None:
            response = error_response(
                503,
                f"too many open event streams (at most {hub.max_streams}); "
                f"try again in {STREAMS_RETRY_AFTER_SECONDS} s",
            )
            response.headers["Retry-After"] = str(STREAMS_RETRY_AFTER_SECONDS)
            return response
        return EventStreamResponse(hub, handle, cursor)
