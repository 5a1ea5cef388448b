"""Error responses: every one is `{"error": "..."}` (plus a few fields where useful),
never FastAPI's default `{"detail": ...}`."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from memtui.domain.errors import InvalidInputError, MemtuiError, VersionConflictError

log = logging.getLogger("memtui.server")

STATUS_MESSAGES = {
    400: "bad request",
    401: "missing API key",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    500: "internal server error",
}


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _location(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    """('body', 'memories', 0, 'content') -> ('body', 'memories.0.content')."""
    parts = list(loc)
    where = str(parts.pop(0)) if parts and parts[0] in ("body", "query", "path", "header") else ""
    return where, ".".join(str(p) for p in parts)


def describe_validation_error(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """A one-line message naming the first bad field, and that field's name."""
    if not errors:
        return "invalid request", None
    first = errors[0]
    where, field = _location(first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error") or first.get("msg", "")
        return f"invalid JSON body: {detail}", None
    if where == "body" and not field:
        if kind == "missing":
            return "a JSON request body is required", None
        return f"invalid request body: {first.get('msg', '')}", None
    message = first.get("msg", "invalid value")
    if kind == "missing":
        return f"{field} is required", field
    value = first.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" (got {value!r})"
    if len(shown) > 80:
        shown = shown[:77] + "…)"
    return f"invalid {field}: {message}{shown}", field


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def memtui_error_response(exc: MemtuiError) -> JSONResponse:
    status = exc.http_status
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidInputError) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, VersionConflictError):
        extra["current"] = exc.current.to_json() if exc.current is not None else None
        extra["expected_version"] = exc.expected_version
    if status >= 500 and status != 501:
        # Unavailable store etc.: the message is user-facing by contract, keep it.
        log.warning("backend unavailable: %s", exc.message)
    return error_response(status, exc.message, **extra)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = describe_validation_error(list(exc.errors()))
        extra = {"field": field} if field else {}
        return error_response(400, message, **extra)

    @app.exception_handler(MemtuiError)
    async def _memtui(_request: Request, exc: MemtuiError) -> JSONResponse:
        return memtui_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if not isinstance(detail, str) or detail in ("Not Found", "Method Not Allowed"):
            detail = STATUS_MESSAGES.get(exc.status_code, "error")
        response = error_response(exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path served by
            # several routes (GET, PATCH, DELETE /memories/{id}) allows all of theirs.
            response.headers["Allow"] = ", ".join(allowed_methods(app, request))
        return response

    @app.exception_handler(json.JSONDecodeError)
    async def _json(_request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return error_response(400, f"invalid JSON body: {exc.msg} at line {exc.lineno}")
