"""A stand-in for a plain Memtrace v1 server, for tests only: memtui's clients must
detect it (GET /health says `service: memtrace`, no features) and offer only what it
has. It serves Memtrace's routes over a memtui store, shaped as Memtrace sends them:
memories without ids and without empty optional fields, sessions that never expire,
offset paging ("a full page means there may be more"), context without token counts;
every memtui extension is absent (404). API keys are the store's, as for `memtui
serve`.

    python -m tests.helpers.plain_memtrace --db URL --host 127.0.0.1 --port N

(`tests.helpers.live_server.start_live_server(url, plain_memtrace=True)` runs it.)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from memtui.backend import Backend, KeyStore
from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    MEMTRACE_MEMORY_TYPES,
    ContextRequest,
    Memory,
    MemoryPage,
    MemoryQuery,
    NewMemory,
    Session,
)
from memtui.server import schemas as s
from memtui.server.errors import install_error_handlers, parse_json_body
from memtui.server.guard import DEFAULT_MAX_BODY_BYTES, ApiGuard
from memtui.server.params import parse_time, split_list
from memtui.server.responses import StoredDataJSONResponse

API_PREFIX = "/api/v1"
DEFAULT_LIST_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 50
MAX_LIST_LIMIT = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)]
OrderParam = Annotated[Literal["asc", "desc"], Query()]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]

_OMIT_EMPTY = ("session_id", "metadata", "tags", "dedup_key", "importance", "parent_id")


def ok(data: Any, status: int = 200) -> StoredDataJSONResponse:
    return StoredDataJSONResponse(data, status_code=status)


def memtrace_memory_json(memory: Memory) -> dict[str, Any]:
    """A memory as Memtrace writes it: no `id`, empty optional fields omitted."""
    data = memory.to_json()
    data.pop("id", None)
    for name in _OMIT_EMPTY:
        if not data.get(name):
            data.pop(name, None)
    return data


def memtrace_session_json(session: Session) -> dict[str, Any]:
    data = session.to_json()
    for name in ("session_id", "expires_at", "workspace_id"):
        data.pop(name, None)
    if data.get("closed_at") is None:
        data.pop("closed_at", None)
    if not data.get("metadata"):
        data.pop("metadata", None)
    return data


def _reraise_pydantic(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**error, "loc": ("body", *error.get("loc", ()))} for error in exc.errors()]
    )


def memtrace_router(backend: Backend) -> APIRouter:
    router = APIRouter()

    def new_memory(item: s.MemoryIn) -> NewMemory:
        memory_type = item.memory_type or MEMTRACE_MEMORY_TYPES[0]
        if memory_type not in MEMTRACE_MEMORY_TYPES:
            raise InvalidInputError(
                f"invalid memory_type: {memory_type}", field="memory_type", value=memory_type
            )
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
        )

    def page_json(page: MemoryPage, limit: int) -> dict[str, Any]:
        memories = [memtrace_memory_json(m) for m in page.memories]
        # Memtrace's own rule: a full page means there may be more.
        return {"memories": memories, "count": len(memories), "has_more": len(memories) >= limit}

    def list_query(
        *,
        agent_id: str | None = None,
        session_id: str | None = None,
        memory_type: str | None = None,
        event_type: str | None = None,
        tags: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int = 0,
        order: str = "desc",
    ) -> MemoryQuery:
        now = backend.now()
        return MemoryQuery(
            agent_id=agent_id or None,
            session_id=session_id or None,
            memory_types=split_list(memory_type),
            event_types=split_list(event_type),
            tags=split_list(tags),
            since=parse_time("since", since, now),
            until=parse_time("until", until, now),
            order=order,
            limit=limit,
            offset=offset,
        )

    @router.post("/memories", status_code=201)
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
            raise _reraise_pydantic(exc) from exc
        new_memories = [new_memory(item) for item in batch]
        stored = await anyio.to_thread.run_sync(backend.add_memories, new_memories)
        if "memories" in payload:
            items = [memtrace_memory_json(m) for m in stored]
            return ok({"memories": items, "count": len(items)}, 201)
        return ok(memtrace_memory_json(stored[0]), 201)

    @router.get("/memories")
    def list_memories(
        agent_id: str | None = None,
        session_id: str | None = None,
        memory_type: str | None = None,
        event_type: str | None = None,
        tags: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        order: OrderParam = "desc",
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
        )
        return ok(page_json(backend.list_memories(query), limit))

    @router.get("/memories/{memory_id}")
    def get_memory(memory_id: IdPath) -> Any:
        # Memtrace memories have no id: its server looks the text up as content.
        page = backend.list_memories(MemoryQuery(content_contains=memory_id, limit=1))
        if not page.memories:
            return ok({"error": "memory not found"}, 404)
        return ok(memtrace_memory_json(page.memories[0]))

    @router.post("/search")
    def search(body: s.SearchIn | None = None) -> Any:
        body = body or s.SearchIn()
        started = time.perf_counter()
        now = backend.now()
        query = MemoryQuery(
            agent_id=body.agent_id or None,
            session_id=body.session_id or None,
            memory_types=tuple(body.memory_types or ()),
            event_types=tuple(body.event_types or ()),
            tags=tuple(body.tags or ()),
            content_contains=body.content_contains or None,
            min_importance=body.min_importance or None,
            since=parse_time("since", body.since, now),
            until=parse_time("until", body.until, now),
            order=body.order or "desc",
            limit=body.limit or DEFAULT_SEARCH_LIMIT,
        )
        results = [memtrace_memory_json(m) for m in backend.list_memories(query).memories]
        return ok(
            {
                "results": results,
                "count": len(results),
                "query_time_ms": int((time.perf_counter() - started) * 1000),
            }
        )

    @router.post("/agents", status_code=201)
    def create_agent(body: s.AgentIn) -> Any:
        agent = backend.create_agent(
            body.name, description=body.description or "", config=body.config or {}
        )
        return ok(agent.to_json(), 201)

    @router.get("/agents")
    def list_agents() -> Any:
        agents = [a.to_json() for a in backend.list_agents()]
        return ok({"agents": agents, "count": len(agents), "has_more": False})

    @router.get("/agents/{agent_id}")
    def get_agent(agent_id: IdPath) -> Any:
        return ok(backend.get_agent(agent_id).to_json())

    @router.get("/agents/{agent_id}/memories")
    def agent_memories(
        agent_id: IdPath,
        memory_type: str | None = None,
        event_type: str | None = None,
        since: str = "24h",
        until: str | None = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        order: OrderParam = "desc",
    ) -> Any:
        query = list_query(
            agent_id=agent_id,
            memory_type=memory_type,
            event_type=event_type,
            since=since,
            until=until,
            limit=limit,
            order=order,
        )
        return ok(page_json(backend.list_memories(query), limit))

    @router.get("/agents/{agent_id}/stats")
    def agent_stats(agent_id: IdPath) -> Any:
        return ok(backend.agent_stats(agent_id).to_json())

    @router.delete(
        "/agents/{agent_id}", status_code=204, response_class=Response, response_model=None
    )
    def delete_agent(agent_id: IdPath) -> Any:
        backend.delete_agent(agent_id)
        return Response(status_code=204)

    @router.post("/sessions", status_code=201)
    def create_session(body: s.SessionIn) -> Any:
        session = backend.create_session(body.agent_id, metadata=body.metadata, ttl=None)
        return ok(memtrace_session_json(session), 201)

    @router.get("/sessions")
    def list_sessions(agent_id: str | None = None) -> Any:
        sessions = backend.list_sessions(agent_id=agent_id or None)
        items = [memtrace_session_json(x) for x in sessions]
        return ok({"sessions": items, "count": len(items), "has_more": False})

    @router.get("/sessions/{session_id}")
    def get_session(session_id: IdPath) -> Any:
        return ok(memtrace_session_json(backend.get_session(session_id)))

    @router.put("/sessions/{session_id}")
    def update_session(session_id: IdPath, body: s.SessionUpdateIn) -> Any:
        session = backend.update_session(session_id, status=body.status, metadata=body.metadata)
        return ok(memtrace_session_json(session))

    @router.get("/sessions/{session_id}/memories")
    def session_memories(
        session_id: IdPath,
        memory_type: str | None = None,
        event_type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: Limit = DEFAULT_LIST_LIMIT,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        order: OrderParam = "desc",
    ) -> Any:
        query = list_query(
            session_id=session_id,
            memory_type=memory_type,
            event_type=event_type,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            order=order,
        )
        return ok(page_json(backend.list_memories(query), limit))

    @router.post("/sessions/{session_id}/context")
    def session_context(session_id: IdPath, body: s.ContextIn | None = None) -> Any:
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
        result = backend.build_context(session_id, request).to_json()
        return ok({k: result[k] for k in ("session_id", "context", "memory_count")})

    return router


def create_plain_app(backend: Backend, *, key_store: KeyStore) -> FastAPI:
    started_at = time.monotonic()
    app = FastAPI(title="Memtrace", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health() -> Any:
        uptime = time.monotonic() - started_at
        return ok({"status": "ok", "service": "memtrace", "uptime": f"{uptime:.3f}s", "arc": {}})

    app.include_router(memtrace_router(backend), prefix=API_PREFIX)
    install_error_handlers(app)
    app.add_middleware(
        ApiGuard,
        key_store=key_store,
        max_body_bytes=DEFAULT_MAX_BODY_BYTES,
        public_paths=frozenset(),
        protected_prefixes=(API_PREFIX,),
    )
    return app


def main(argv: list[str] | None = None) -> int:
    import socket

    import uvicorn

    from memtui.domain.clock import clock_from_environment
    from memtui.store import SqlStore

    parser = argparse.ArgumentParser(prog="plain_memtrace")
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Bound here, as `memtui serve` does, and refused in its words, so that the live
    # server helper can tell a port taken by another test process and try a new one.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        print(f"memtui: cannot listen on {args.host}:{args.port}: {exc.strerror}", flush=True)
        return 2
    store = SqlStore(args.db, clock=clock_from_environment())
    key_store = store.key_store()
    app = create_plain_app(store, key_store=key_store)
    print(f"plain Memtrace stand-in: listening on http://{args.host}:{args.port}", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", workers=1))
    threading.current_thread().name = "plain-memtrace"
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        key_store.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
