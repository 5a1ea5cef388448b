"""Sessions: start, list, get, update, their memories and context (Memtrace v1), and
extend and delete (memtui)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    ContextRequest,
)
from memtui.server import schemas as s
from memtui.server.routes.common import (
    CONFLICT,
    NOT_FOUND,
    MemoryFiltersParam,
    MemoryPagingParam,
    ServerContext,
    SessionIdPath,
    memory_page_json,
    no_content,
    ok,
)


def memtrace_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

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
        session_id: SessionIdPath, filters: MemoryFiltersParam, paging: MemoryPagingParam
    ) -> Any:
        query = filters.query(ctx, session_id=session_id, paging=paging)
        return ok(memory_page_json(backend.list_memories(query)))

    @router.post(
        "/sessions/{session_id}/context",
        response_model=s.ContextOut,
        responses={**NOT_FOUND},
        summary="LLM-ready markdown context (max_tokens honoured exactly)",
    )
    def session_context(session_id: SessionIdPath, body: s.ContextIn | None = None) -> Any:
        request = context_request(body)
        return ok(backend.build_context(session_id, request).to_json())

    return router


def context_request(body: s.ContextIn | None) -> ContextRequest:
    body = body or s.ContextIn()
    return ContextRequest(
        since=body.since or None,
        until=body.until or None,
        include_types=tuple(body.include_types or ()),
        exclude_types=tuple(body.exclude_types or ()),
        max_tokens=body.max_tokens or None,
        order=body.order or "desc",
        encoding=body.encoding or ContextRequest().encoding,
        as_of=body.as_of or None,
    )


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.post(
        "/sessions/{session_id}/context/explain",
        response_model=s.ContextExplanationOut,
        responses={**NOT_FOUND},
        summary="Why each memory of the session is in its context or not, and the tokens",
    )
    def explain_context(session_id: SessionIdPath, body: s.ContextIn | None = None) -> Any:
        return ok(backend.explain_context(session_id, context_request(body)).to_json())

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
