"""The routes, one module per resource, all under /api/v1: Memtrace v1
(`memtrace_router`) and memtui's extensions (`extension_router`).

Route functions are sync (FastAPI runs them in its threadpool; backends are
thread-safe) and return ready JSON built from the domain's `to_json()` shapes. The
`response_model`s only document those shapes in /openapi.json. Every route that lists
or counts memories takes its filters from one dependency (`common.MemoryFilters`).

A route with a literal segment comes before one with a parameter in the same place
(`/memories/count` before `/memories/{memory_id}`, `/snapshots/latest` before
`/snapshots/{snapshot_id}`): the order below keeps that.
"""

from __future__ import annotations

from fastapi import APIRouter

from memtui.server.routes import (
    agents,
    changes,
    history,
    memories,
    sessions,
    snapshots,
    transfer,
    working_memory,
)
from memtui.server.routes.changes import events_route
from memtui.server.routes.common import COMMON_ERRORS, ServerContext


def memtrace_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(tags=["memtrace v1"])
    memories.memtrace_routes(router, ctx)
    agents.memtrace_routes(router, ctx)
    sessions.memtrace_routes(router, ctx)
    return router


def extension_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(tags=["memtui extensions"])
    sessions.extension_routes(router, ctx)
    working_memory.extension_routes(router, ctx)
    snapshots.extension_routes(router, ctx)
    memories.extension_routes(router, ctx)
    changes.extension_routes(router, ctx)
    history.extension_routes(router, ctx)
    history.trash_routes(router, ctx)
    transfer.extension_routes(router, ctx)
    return router


__all__ = [
    "COMMON_ERRORS",
    "ServerContext",
    "events_route",
    "extension_router",
    "memtrace_router",
]
