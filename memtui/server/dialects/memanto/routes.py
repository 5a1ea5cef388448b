"""Memanto (seed 001) under /api/v2: activate and deactivate an agent's session, the
current session and extend (with the session token), and remember (one or a batch)
into the token's session; over the Backend protocol only.

The API key is memtui's (`Authorization: Bearer` or `X-Api-Key`, checked by ApiGuard);
memory routes also need the session token (`X-Session-Token`, or the
`memanto_session_token` cookie). Errors are memtui's `{"error": ...}`.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Header, Query

from memtui.backend import Backend
from memtui.domain.dialects import memanto as rules
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.domain.models import MemoryQuery, NewMemory, Session, SessionStatus, dt_to_json
from memtui.server import schemas as s
from memtui.server.dialects.memanto import schemas as m
from memtui.server.dialects.memanto.tokens import SessionTokens
from memtui.server.routes.common import NOT_FOUND, IdPath, ok

TokenHeader = Annotated[
    str | None, Header(alias="X-Session-Token", description="the token activate returned")
]
TokenCookie = Annotated[str | None, Cookie(description="the session token, as a cookie")]
UNAUTHORIZED = {401: {"model": s.ErrorBody, "description": "no, a bad or an expired token"}}


def _current_json(session: Session, now: Any) -> dict[str, Any]:
    minutes, seconds = rules.time_remaining(session.expires_at, now)
    return {
        "session_id": session.id,
        "agent_id": session.agent_id,
        "namespace": rules.namespace(session.agent_id),
        "status": session.effective_status(now).value,
        "started_at": dt_to_json(session.created_at),
        "expires_at": dt_to_json(session.expires_at),
        "time_remaining_minutes": minutes,
        "time_remaining_seconds": seconds,
    }


def _new_memory(agent_id: str, session_id: str, item: m.RememberIn) -> NewMemory:
    metadata: dict[str, Any] = {}
    if item.title:
        metadata["title"] = item.title
    metadata["source"] = item.source
    metadata["provenance"] = item.provenance
    return NewMemory(
        agent_id=agent_id,
        content=item.content,
        memory_type=item.type or rules.DEFAULT_MEMORY_TYPE,
        session_id=session_id,
        tags=list(item.tags or []),
        importance=item.confidence,
        metadata=metadata,
    )


def router(backend: Backend, tokens: SessionTokens) -> APIRouter:
    api = APIRouter()
    activation = threading.Lock()  # one active session per agent, in this server

    def active_sessions(agent_id: str) -> list[Session]:
        active = backend.list_sessions(agent_id=agent_id, status=SessionStatus.ACTIVE.value)
        return [x for x in active if rules.is_memanto_session(x.metadata)]

    @api.post(
        "/agents/{agent_id}/activate",
        response_model=m.SessionOut,
        summary="Start the agent's 6-hour session (ends its previous one); returns the token",
    )
    def activate(agent_id: IdPath) -> Any:
        with activation:
            for previous in active_sessions(agent_id):
                backend.close_session(previous.id)
            session = backend.create_session(
                agent_id,
                metadata=rules.session_metadata(agent_id),
                ttl=rules.SESSION_WINDOW,
            )
        return ok(
            {
                "session_id": session.id,
                "session_token": tokens.issue(session),
                "agent_id": session.agent_id,
                "namespace": rules.namespace(session.agent_id),
                "started_at": dt_to_json(session.created_at),
                "expires_at": dt_to_json(session.expires_at),
                "pattern": None,
                "status": "active",
                "metadata": session.metadata,
            }
        )

    @api.post(
        "/agents/{agent_id}/deactivate",
        response_model=m.SessionSummaryOut,
        responses={**NOT_FOUND},
        summary="End the agent's active session",
    )
    def deactivate(agent_id: IdPath) -> Any:
        with activation:
            active = active_sessions(agent_id)
            if not active:
                raise NotFoundError(f"agent {agent_id!r} has no active session")
            ended = [backend.close_session(x.id) for x in active]
        session = ended[0]  # newest first; there is normally just one
        ended_at = session.closed_at or backend.now()
        created = backend.count_memories(MemoryQuery(session_id=session.id))
        return ok(
            {
                "session_id": session.id,
                "agent_id": session.agent_id,
                "started_at": dt_to_json(session.created_at),
                "ended_at": dt_to_json(ended_at),
                "duration_hours": rules.duration_hours(session.created_at, ended_at),
                "memories_created": created,
                "summary_memory_id": None,
            }
        )

    @api.get(
        "/session/current",
        response_model=m.CurrentSessionOut,
        responses={**UNAUTHORIZED},
        summary="The token's session and the time it has left",
    )
    def current(
        x_session_token: TokenHeader = None, memanto_session_token: TokenCookie = None
    ) -> Any:
        session = tokens.session_for(x_session_token or memanto_session_token)
        return ok(_current_json(session, backend.now()))

    @api.post(
        "/session/extend",
        response_model=m.ExtendOut,
        responses={**UNAUTHORIZED},
        summary="Add hours to what the token's session has left (1 h left + 6 h = 7 h)",
    )
    def extend(
        extend_hours: Annotated[float, Query(gt=0, le=8760)] = 6,
        x_session_token: TokenHeader = None,
        memanto_session_token: TokenCookie = None,
    ) -> Any:
        session = tokens.session_for(x_session_token or memanto_session_token)
        session = backend.extend_session(session.id, timedelta(hours=extend_hours))
        return ok({**_current_json(session, backend.now()), "extended_by_hours": extend_hours})

    @api.post(
        "/agents/{agent_id}/remember",
        response_model=m.RememberOut,
        responses={**UNAUTHORIZED},
        summary="Store a memory in the token's session (query parameters or a JSON body)",
    )
    def remember(
        agent_id: IdPath,
        body: m.RememberIn | None = None,
        content: Annotated[
            str | None, Query(min_length=1, description="as the seed's example")
        ] = None,
        type: Annotated[str | None, Query(pattern=m.TYPE_PATTERN)] = None,  # noqa: A002
        x_session_token: TokenHeader = None,
        memanto_session_token: TokenCookie = None,
    ) -> Any:
        session = tokens.session_for(x_session_token or memanto_session_token, agent_id=agent_id)
        if body is None:
            if content is None or not content.strip():
                raise InvalidInputError(
                    "content is required (a query parameter or the JSON body)", field="content"
                )
            body = m.RememberIn(content=content, type=type)
        [memory] = backend.add_memories([_new_memory(agent_id, session.id, body)])
        return ok(
            {
                "memory_id": memory.id,
                "agent_id": agent_id,
                "session_id": session.id,
                "namespace": rules.namespace(agent_id),
                "status": "stored",
                "provenance": body.provenance,
                "confidence": body.confidence,
                "type": memory.memory_type,
            }
        )

    @api.post(
        "/agents/{agent_id}/batch-remember",
        response_model=m.BatchRememberOut,
        responses={**UNAUTHORIZED},
        summary="Store several memories in the token's session (all or none)",
    )
    def batch_remember(
        agent_id: IdPath,
        body: m.BatchRememberIn,
        x_session_token: TokenHeader = None,
        memanto_session_token: TokenCookie = None,
    ) -> Any:
        session = tokens.session_for(x_session_token or memanto_session_token, agent_id=agent_id)
        stored = backend.add_memories([_new_memory(agent_id, session.id, x) for x in body.memories])
        return ok(
            {
                "agent_id": agent_id,
                "session_id": session.id,
                "namespace": rules.namespace(agent_id),
                "total_submitted": len(body.memories),
                "successful": len(stored),
                "failed": 0,
                "results": [
                    {"id": x.id, "status": "stored", "type": x.memory_type} for x in stored
                ],
            }
        )

    return api
