"""MemoryLayer's session and memory API (seed 002), as memorylayer-server 0.2.0 serves it."""

from __future__ import annotations

from fastapi import APIRouter

from memtui.server.dialects import Dialect, DialectContext
from memtui.server.dialects.memorylayer.shapes import error_body

BASE_PATH = "/v1"


def _router(ctx: DialectContext) -> APIRouter:
    from memtui.server.dialects.memorylayer.routes import router

    return router(ctx.server.backend)


def _common_errors() -> dict[int | str, dict[str, object]]:
    from memtui.server.dialects.memorylayer.schemas import ErrorResponse

    described = {
        400: "a bad body or parameter (details.field names it)",
        401: "missing or invalid API key",
        404: "not found (an unknown route too)",
        413: "request body too large",
        500: "internal error",
        503: "the store is unavailable (busy or unreachable)",
    }
    return {code: {"model": ErrorResponse, "description": text} for code, text in described.items()}


DIALECT = Dialect(
    name="memorylayer",
    system="MemoryLayer (memorylayer-server 0.2.0)",
    base_path=BASE_PATH,
    tag="memorylayer",
    router=_router,
    error_shaper=error_body,
    common_errors=_common_errors(),
)
