"""Memanto's session API (seed 001; memanto 0.2.30's shapes), base /api/v2."""

from __future__ import annotations

from fastapi import APIRouter

from memtui.server.dialects import Dialect, DialectContext

BASE_PATH = "/api/v2"


def _router(ctx: DialectContext) -> APIRouter:
    from memtui.server.dialects.memanto.routes import router
    from memtui.server.dialects.memanto.tokens import SessionTokens

    backend = ctx.server.backend
    return router(backend, SessionTokens(ctx.key_store, backend))


DIALECT = Dialect(
    name="memanto",
    system="Memanto (memanto 0.2.30)",
    base_path=BASE_PATH,
    tag="memanto",
    router=_router,
)
