"""The change feed (memtui): GET /changes by cursor and GET /events as server-sent
events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from memtui.domain.errors import InvalidInputError
from memtui.server import schemas as s
from memtui.server.routes.common import (
    ServerContext,
    ok,
)


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

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
