"""Memories: store, list, count, get, search (Memtrace v1) and edit, delete, types
(memtui)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    MEMTRACE_MEMORY_TYPES,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
)
from memtui.server import schemas as s
from memtui.server.errors import parse_json_body
from memtui.server.params import parse_cursor, parse_time
from memtui.server.routes.common import (
    CONFLICT,
    DEFAULT_SEARCH_LIMIT,
    NOT_FOUND,
    IdPath,
    MemoryFiltersParam,
    MemoryPagingParam,
    ServerContext,
    memory_page_json,
    no_content,
    ok,
    reraise_pydantic,
)


def memtrace_routes(router: APIRouter, ctx: ServerContext) -> None:
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
            raise reraise_pydantic(exc, ()) from exc
        new_memories = [new_memory(item) for item in batch]
        stored = await anyio.to_thread.run_sync(backend.add_memories, new_memories)
        if "memories" in payload:
            items = [m.to_json() for m in stored]
            return ok({"memories": items, "count": len(items)}, 201)
        return ok(stored[0].to_json(), 201)

    @router.get("/memories", response_model=s.MemoryListOut, summary="List memories")
    def list_memories(
        filters: MemoryFiltersParam,
        paging: MemoryPagingParam,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> Any:
        query = filters.query(ctx, agent_id=agent_id, session_id=session_id, paging=paging)
        return ok(memory_page_json(backend.list_memories(query)))

    @router.get(
        "/memories/count",
        response_model=s.MemoryCountOut,
        summary="memtui: count memories matching the GET /memories filters",
        tags=["memtui extensions"],
    )
    def count_memories(
        filters: MemoryFiltersParam,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> Any:
        query = filters.query(ctx, agent_id=agent_id, session_id=session_id)
        return ok({"count": backend.count_memories(query)})

    @router.get(
        "/memories/{memory_id}",
        response_model=s.MemoryOut,
        responses={**NOT_FOUND},
        summary="Get one memory",
    )
    def get_memory(memory_id: IdPath) -> Any:
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


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.patch(
        "/memories/{memory_id}",
        response_model=s.MemoryOut,
        responses={**NOT_FOUND},
        summary="Edit a memory",
    )
    def patch_memory(memory_id: IdPath, body: s.MemoryPatchIn) -> Any:
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
    def delete_memory(memory_id: IdPath) -> Any:
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
