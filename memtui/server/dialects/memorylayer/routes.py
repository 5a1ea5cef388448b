"""MemoryLayer (seed 002) under /v1: sessions with working memory, touch, commit and a
briefing, and memories with recall; over the Backend protocol only.

A workspace is a memtui agent (memtui.domain.dialects.memorylayer): it comes from the
body's `workspace_id`, else the `X-Workspace-ID` header, else `_default` for writes; a
read without one covers every workspace. Errors are MemoryLayer's `{error, message,
details}` (shapes.error_body, applied by path).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from memtui.backend import Backend
from memtui.domain import validation as check
from memtui.domain.dialects import memorylayer as rules
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import MemoryPatch, MemoryQuery, NewMemory, SessionStatus
from memtui.server.dialects.memorylayer import schemas as m
from memtui.server.dialects.memorylayer.shapes import (
    briefing_json,
    memory_json,
    session_json,
    working_memory_json,
)
from memtui.server.routes.common import IdPath, no_content, ok

WorkspaceHeader = Annotated[
    str | None,
    Header(alias="X-Workspace-ID", max_length=200, description="the workspace (a memtui agent)"),
]
SessionHeader = Annotated[
    str | None,
    Header(alias="X-Session-ID", max_length=200, description="memtui: links new memories"),
]
RECALL_SCAN_LIMIT = 5000  # newest memories a recall ranks
MAX_LOOKBACK_MINUTES = 10 * 365 * 24 * 60

ML_NOT_FOUND = {404: {"model": m.ErrorResponse, "description": "not found"}}
ML_CONFLICT = {409: {"model": m.ErrorResponse, "description": "the session is closed"}}


def _workspace(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate is not None and candidate.strip():
            return candidate
    return None


def session_routes(api: APIRouter, backend: Backend) -> None:
    def briefing_for(workspace: str | None, lookback: timedelta, limit: int) -> dict[str, Any]:
        briefing = backend.briefing(agent_id=workspace, lookback=lookback)
        briefing = replace(briefing, recent_activity=briefing.recent_activity[:limit])
        total = backend.count_memories(MemoryQuery(agent_id=workspace))
        return briefing_json(briefing, workspace=workspace, memory_count=total)

    @api.post(
        "/sessions",
        status_code=201,
        response_model=m.SessionStartOut,
        responses={409: {"model": m.ErrorResponse, "description": "session_id is taken"}},
        summary="Start a session (working memory, optional briefing)",
    )
    def create_session(body: m.SessionCreateIn, x_workspace_id: WorkspaceHeader = None) -> Any:
        workspace = _workspace(body.workspace_id, x_workspace_id) or rules.DEFAULT_WORKSPACE
        for key, value in (body.working_memory or {}).items():
            # Checked before the session exists, so a bad key leaves nothing behind.
            try:
                check.check_text("a working_memory key", key, max_length=500)
            except InvalidInputError as exc:
                raise InvalidInputError(exc.message, field="working_memory", value=key) from None
            check.check_json(f"working_memory.{key}", value, copy=False)
        session = backend.create_session(
            workspace,
            metadata=body.metadata,
            workspace_id=workspace,
            ttl=timedelta(seconds=body.ttl_seconds),
            session_id=body.session_id,
        )
        for key, value in (body.working_memory or {}).items():
            backend.set_working_memory(session.id, key, value)
        briefing = None
        if body.briefing:
            minutes = (body.briefing_options or {}).get("lookback_minutes", 60)
            if type(minutes) is not int or not 1 <= minutes <= MAX_LOOKBACK_MINUTES:
                raise InvalidInputError(
                    f"invalid briefing_options.lookback_minutes: {minutes!r} is not a whole "
                    f"number of minutes from 1 to {MAX_LOOKBACK_MINUTES}",
                    field="briefing_options.lookback_minutes",
                    value=minutes,
                )
            briefing = briefing_for(workspace, timedelta(minutes=minutes), 10)
        return ok({"session": session_json(session, backend.now()), "briefing": briefing}, 201)

    @api.get("/sessions", response_model=m.SessionListOut, summary="List sessions")
    def list_sessions(
        workspace_id: Annotated[str | None, Query(max_length=200)] = None,
        context_id: str | None = None,
        include_expired: bool = False,
        x_workspace_id: WorkspaceHeader = None,
    ) -> Any:
        workspace = _workspace(workspace_id, x_workspace_id)
        status = None if include_expired else SessionStatus.ACTIVE.value
        sessions = backend.list_sessions(agent_id=workspace, status=status)
        now = backend.now()
        items = [session_json(s, now) for s in sessions]
        return ok({"sessions": items, "total_count": len(items)})

    @api.get(
        "/sessions/briefing",
        response_model=m.BriefingResponseOut,
        summary="Recent activity, open threads (from snapshots) and recent memories",
    )
    def get_briefing(
        workspace_id: Annotated[str | None, Query(max_length=200)] = None,
        lookback_minutes: Annotated[int, Query(ge=1, le=MAX_LOOKBACK_MINUTES)] = 60,
        detail_level: str = "abstract",
        limit: Annotated[int, Query(ge=1, le=1000)] = 10,
        include_memories: bool = True,
        include_contradictions: bool = True,
        x_workspace_id: WorkspaceHeader = None,
    ) -> Any:
        workspace = _workspace(workspace_id, x_workspace_id)
        briefing = briefing_for(workspace, timedelta(minutes=lookback_minutes), limit)
        if not include_memories:
            briefing["memories"] = []
        return ok({**briefing, "briefing": dict(briefing)})

    @api.get(
        "/sessions/{session_id}",
        response_model=m.SessionOneOut,
        responses={**ML_NOT_FOUND},
        summary="Get a session",
    )
    def get_session(session_id: IdPath) -> Any:
        session = session_json(backend.get_session(session_id), backend.now())
        return ok({**session, "session": dict(session)})

    @api.delete(
        "/sessions/{session_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**ML_NOT_FOUND},
        summary="Delete a session with its working memory (its memories stay)",
    )
    def delete_session(session_id: IdPath) -> Any:
        backend.delete_session(session_id)
        return no_content()

    @api.post(
        "/sessions/{session_id}/touch",
        response_model=m.TouchOut,
        responses={**ML_NOT_FOUND, **ML_CONFLICT},
        summary="Keep a session alive: it ends no sooner than now + extend_seconds",
    )
    def touch_session(
        session_id: IdPath,
        extend_seconds: Annotated[int | None, Query(ge=1, le=10 * 365 * 86400)] = None,
    ) -> Any:
        session = backend.get_session(session_id)
        seconds = rules.DEFAULT_TTL_SECONDS if extend_seconds is None else extend_seconds
        by = rules.touch_extension(session.expires_at, backend.now(), seconds)
        if by is not None:
            session = backend.extend_session(session_id, by)
        expires_at = session_json(session, backend.now())["expires_at"]
        return ok({"expires_at": expires_at, "session_id": session.id, "extended": by is not None})

    @api.post(
        "/sessions/{session_id}/memory",
        status_code=201,
        response_model=m.WorkingMemoryOut,
        responses={**ML_NOT_FOUND},
        summary="Set a working-memory key (memtui's working memory: versions bump)",
    )
    def set_working_memory(session_id: IdPath, body: m.WorkingMemorySetIn) -> Any:
        item = backend.set_working_memory(session_id, body.key, body.value)
        return ok(working_memory_json(item), 201)

    @api.get(
        "/sessions/{session_id}/memory",
        response_model=dict[str, Any],
        responses={**ML_NOT_FOUND},
        summary="Working memory as a flat {key: value} (one key, a comma list, or all)",
    )
    def get_working_memory(
        session_id: IdPath, key: Annotated[str | None, Query(min_length=1)] = None
    ) -> Any:
        items = {item.key: item.value for item in backend.list_working_memory(session_id)}
        if key is None:
            return ok(items)
        wanted = rules.requested_keys(key, items)
        missing = [k for k in wanted if k not in items]
        if missing:
            raise NotFoundError(f"working memory key not found: {missing[0]!r}")
        return ok({k: items[k] for k in wanted})

    @api.post(
        "/sessions/{session_id}/commit",
        response_model=m.CommitOut,
        responses={**ML_NOT_FOUND},
        summary="Commit working memory to long-term memories",
    )
    def commit_session(session_id: IdPath, body: m.CommitIn | None = None) -> Any:
        body = body or m.CommitIn()
        started = time.monotonic()
        result = backend.commit_working_memory(
            session_id, min_importance=body.min_importance, deduplicate=body.deduplicate
        )
        return ok(
            {
                "session_id": session_id,
                "memories_extracted": result.memories_created + result.memories_deduplicated,
                "memories_deduplicated": result.memories_deduplicated,
                "memories_created": result.memories_created,
                "breakdown": {
                    "created_keys": result.created_keys,
                    "deduplicated_keys": result.deduplicated_keys,
                    "skipped_keys": result.skipped_keys,
                    "memory_ids": result.memory_ids,
                },
                "extraction_time_ms": int((time.monotonic() - started) * 1000),
            }
        )


def memory_routes(api: APIRouter, backend: Backend) -> None:
    def type_filter(kind: str | None, workspace: str | None) -> tuple[str, ...]:
        if kind is None:
            return ()
        known = backend.list_memory_types(agent_id=workspace)
        return rules.memtui_types_for(kind, [*known, kind]) or (kind,)

    @api.post(
        "/memories",
        status_code=201,
        response_model=m.MemoryOneOut,
        summary="Store a memory",
    )
    def remember(
        body: m.MemoryCreateIn,
        x_workspace_id: WorkspaceHeader = None,
        x_session_id: SessionHeader = None,
    ) -> Any:
        workspace = _workspace(body.workspace_id, x_workspace_id) or rules.DEFAULT_WORKSPACE
        session_id = None
        if x_session_id:
            try:  # the client sends its current session: link the memory to it
                session_id = backend.get_session(x_session_id).id
            except NotFoundError:
                session_id = None
        [memory] = backend.add_memories(
            [
                NewMemory(
                    agent_id=workspace,
                    content=body.content,
                    memory_type=body.type or rules.DEFAULT_TYPE,
                    session_id=session_id,
                    tags=list(body.tags),
                    importance=body.importance,
                    metadata=body.metadata,
                    dedup_key=body.logical_key,
                )
            ]
        )
        return ok({"memory": memory_json(memory), "replayed": False}, 201)

    @api.get("/memories", response_model=m.MemoryListOut, summary="List memories, newest first")
    def list_memories(
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        type: Annotated[str | None, Query(pattern=m.TYPE_PATTERN)] = None,  # noqa: A002
        tag: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        x_workspace_id: WorkspaceHeader = None,
    ) -> Any:
        workspace = _workspace(x_workspace_id)
        query = MemoryQuery(
            agent_id=workspace,
            memory_types=type_filter(type, workspace),
            tags=(tag,) if tag else (),
            limit=limit,
            offset=offset,
        )
        page = backend.list_memories(query)
        total = backend.count_memories(query)
        return ok({"memories": [memory_json(x) for x in page.memories], "total_count": total})

    @api.post("/memories/recall", response_model=m.RecallOut, summary="Recall by text relevance")
    def recall(body: m.MemoryRecallIn, x_workspace_id: WorkspaceHeader = None) -> Any:
        started = time.monotonic()
        workspace = _workspace(body.workspace_id, x_workspace_id)
        for index, kind in enumerate(body.types):
            if kind not in rules.MEMORYLAYER_TYPES:
                raise InvalidInputError(
                    f"invalid types.{index}: {kind!r} is not one of "
                    f"{', '.join(rules.MEMORYLAYER_TYPES)}",
                    field=f"types.{index}",
                    value=kind,
                )
        memory_types: tuple[str, ...] = ()
        for kind in body.types:
            memory_types += type_filter(kind, workspace)
        candidates = backend.list_memories(
            MemoryQuery(
                agent_id=workspace,
                memory_types=memory_types,
                tags=tuple(body.tags),
                limit=RECALL_SCAN_LIMIT,
            )
        ).memories
        ranked = rules.rank_by_relevance(
            body.query, [f"{c.content} {' '.join(c.tags)}" for c in candidates]
        )
        if body.min_relevance is not None:
            ranked = [r for r in ranked if r.score >= body.min_relevance]
        chosen = ranked[body.offset : body.offset + body.limit]
        memories = [memory_json(candidates[r.index], relevance=r.score) for r in chosen]
        return ok(
            {
                "memories": memories,
                "total_count": len(ranked),
                "query_tokens": len(rules.words(body.query)),
                "search_latency_ms": int((time.monotonic() - started) * 1000),
                "mode_used": "rag",
            }
        )

    @api.get(
        "/memories/{memory_id}",
        response_model=m.MemoryOneOut,
        responses={**ML_NOT_FOUND},
        summary="Get a memory",
    )
    def get_memory(memory_id: IdPath) -> Any:
        return ok({"memory": memory_json(backend.get_memory(memory_id))})

    @api.put(
        "/memories/{memory_id}",
        response_model=m.MemoryOneOut,
        responses={**ML_NOT_FOUND},
        summary="Edit a memory (what is absent stays)",
    )
    def update_memory(memory_id: IdPath, body: m.MemoryUpdateIn) -> Any:
        patch = MemoryPatch(
            content=body.content,
            memory_type=body.type,
            tags=None if body.tags is None else list(body.tags),
            importance=body.importance,
            metadata=body.metadata,
        )
        return ok({"memory": memory_json(backend.update_memory(memory_id, patch))})

    @api.delete(
        "/memories/{memory_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**ML_NOT_FOUND},
        summary="Delete a memory",
    )
    def delete_memory(memory_id: IdPath, hard: bool = False) -> Any:
        if backend.delete_memories([memory_id]) == 0:
            raise NotFoundError(f"memory {memory_id!r} not found")
        return no_content()


def router(backend: Backend) -> APIRouter:
    api = APIRouter()
    session_routes(api, backend)
    memory_routes(api, backend)
    return api
