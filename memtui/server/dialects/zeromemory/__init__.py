"""AINative ZeroMemory's session-snapshot API (seed 003)."""

from __future__ import annotations

from fastapi import APIRouter

from memtui.server.dialects import Dialect, DialectContext

BASE_PATH = "/api/v1/public/memory/v2/session"


def _router(ctx: DialectContext) -> APIRouter:
    from memtui.server.dialects.zeromemory.routes import router

    return router(ctx.server.backend)


DIALECT = Dialect(
    name="zeromemory",
    system="AINative ZeroMemory session memory",
    base_path=BASE_PATH,
    tag="zeromemory",
    router=_router,
)
