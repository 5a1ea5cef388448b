"""The FastAPI app factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Security
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer

from memtui import __version__
from memtui.backend import Backend, ChangeNotifier, KeyStore, ReportsActiveKeys
from memtui.domain.clock import Clock
from memtui.server import schemas as s
from memtui.server.dialects import DialectContext, dialects, health_entries
from memtui.server.error_shapes import ErrorShapes
from memtui.server.errors import install_error_handlers
from memtui.server.events import DEFAULT_MAX_EVENT_STREAMS, ChangeHub, change_channel_of
from memtui.server.guard import DEFAULT_MAX_BODY_BYTES, ApiGuard
from memtui.server.routes import (
    COMMON_ERRORS,
    ServerContext,
    events_route,
    extension_router,
    memtrace_router,
)

API_PREFIX = "/api/v1"
THREADPOOL_SIZE = 16

# Documentation only (auto_error=False): ApiGuard does the checking, before anything
# else, so that a request without a key gets 401 whatever else is wrong with it.
api_key_scheme = APIKeyHeader(name="x-api-key", auto_error=False, description="an API key (mtk_…)")
bearer_scheme = HTTPBearer(auto_error=False, description="the same API key as a bearer token")

# Models that only appear inside hand-written openapi_extra bodies.
_EXTRA_SCHEMAS = (s.MemoryIn, s.MemoryBatchIn)


def create_app(
    backend: Backend,
    *,
    key_store: KeyStore,
    clock: Clock | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    stop_event: threading.Event | None = None,
    max_event_streams: int = DEFAULT_MAX_EVENT_STREAMS,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """`backend` serves every route; `key_store` checks API keys. `stop_event` ends
    event streams on shutdown;
    `max_event_streams` caps how many are open at once.
    `clock` is accepted for symmetry; times come from `backend.now()`."""
    del clock  # the backend's clock is the one that counts
    stop = stop_event or threading.Event()
    hub = ChangeHub(
        backend,
        max_streams=max_event_streams,
        # A key store that can say which keys are still valid lets revocation end open
        # streams (the SQL one can; the KeyStore protocol does not require it).
        keys_active=key_store.active_among if isinstance(key_store, ReportsActiveKeys) else None,
        channel=change_channel_of(backend),
        stop=stop,
    )
    # This process's commits wake the streams at once; any backend that cannot say
    # so is woken after every write request instead.
    if isinstance(backend, ChangeNotifier):
        backend.add_change_listener(hub.notify)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Worker threads beyond what the store's connection pool serves at once would
        # only queue inside the pool, unfairly; anyio's limiter queues them in order.
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_SIZE
        if on_startup is not None:
            on_startup()
        hub.start()
        try:
            yield
        finally:
            stop.set()
            await hub.stop()
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="memtui",
        version=__version__,
        description=(
            "Memtrace v1 compatible API with memtui's extensions: expiry and extend, "
            "working memory, commit, snapshots, briefing, memory edit/delete and live events; "
            "and the session APIs of Memanto (/api/v2), MemoryLayer (/v1) and AINative "
            "ZeroMemory (/api/v1/public/memory/v2/session), tagged by dialect. "
            'Every error body is {"error": "..."}, except MemoryLayer\'s '
            "{error, message, details}."
        ),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.stop_event = stop
    app.state.change_hub = hub
    ctx = ServerContext(backend=backend)
    served = dialects()
    dialect_list = health_entries(served)

    @app.get(
        "/health",
        tags=["health"],
        response_model=s.HealthOut,
    )
    def health() -> Any:
        return JSONResponse(
            {
                "status": "ok",
                "service": "memtui",
                "version": __version__,
                "features": sorted(backend.capabilities()),
                "dialects": dialect_list,
            }
        )

    public_paths = frozenset({f"{API_PREFIX}/health"})
    security = [Security(api_key_scheme), Security(bearer_scheme)]
    api = APIRouter(prefix=API_PREFIX, dependencies=security, responses=COMMON_ERRORS)
    api.include_router(memtrace_router(ctx))
    api.include_router(extension_router(ctx))
    events_route(api, ctx, hub)
    app.include_router(api)
    shapes = ErrorShapes()
    dialect_ctx = DialectContext(server=ctx, key_store=key_store)
    for dialect in served:
        app.include_router(
            dialect.router(dialect_ctx),
            prefix=dialect.base_path,
            tags=[dialect.tag],
            dependencies=security,
            responses=dialect.common_errors or COMMON_ERRORS,
        )
        if dialect.error_shaper is not None:
            shapes.add(dialect.base_path, dialect.error_shaper)
    app.add_api_route(
        f"{API_PREFIX}/health",
        health,
        methods=["GET"],
        tags=["health"],
        response_model=s.HealthOut,
        summary="Health (no key needed)",
    )

    install_error_handlers(app, shapes)
    app.add_middleware(
        ApiGuard,
        key_store=key_store,
        max_body_bytes=max_body_bytes,
        public_paths=public_paths,
        protected_prefixes=(API_PREFIX, *(d.base_path for d in served)),
        on_write=None if isinstance(backend, ChangeNotifier) else hub.notify,
        error_shapes=shapes,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _EXTRA_SCHEMAS:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in definition.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components.setdefault(model.__name__, definition)
        # FastAPI documents its own 422 shape; ours is a 400 {"error": ...}.
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict):
                    operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
