"""Error responses: every one is `{"error": "..."}` (plus a few fields where useful),
never FastAPI's default `{"detail": ...}`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from memtui.domain.errors import (
    BackendUnavailableError,
    InvalidInputError,
    MemtuiError,
    VersionConflictError,
)
from memtui.domain.safe_json import MAX_JSON_DEPTH, deep_json_path
from memtui.server.error_shapes import ErrorShapes
from memtui.server.responses import StoredDataJSONResponse

log = logging.getLogger("memtui.server")

RETRY_AFTER_SECONDS = 1  # on a 503 from the store: worth retrying soon

STATUS_MESSAGES = {
    400: "bad request",
    401: "missing API key",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    500: "internal server error",
}


# Where ApiGuard leaves the request body it buffered (for messages about its content).
RAW_BODY_SCOPE_KEY = "memtui.raw_body"


def too_deep_error(body: bytes) -> InvalidInputError:
    """The 400 for a body nested too deeply for the JSON parser itself, naming the field
    that is (`metadata`, `memories.3.metadata`, `value`, or the body)."""
    found = deep_json_path(body)
    field, depth = found if found is not None else ("", 0)
    name = field or "body"
    levels = f" ({depth} levels)" if depth else ""
    return InvalidInputError(
        f"{name} is nested more than {MAX_JSON_DEPTH} levels deep{levels}; the limit is "
        f"{MAX_JSON_DEPTH} levels of objects and lists",
        field=name,
    )


def parse_json_body(body: bytes) -> Any:
    """json.loads for a request body: a 400 naming the problem, never a 500."""
    try:
        return json.loads(body) if body else None
    except RecursionError:
        raise too_deep_error(body) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body",),
                    "msg": str(exc),
                    "ctx": {"error": str(exc)},
                }
            ]
        ) from exc


def error_response(
    status: int, message: str, *, shaped_for: Request | None = None, **extra: Any
) -> JSONResponse:
    """memtui's error body; with `shaped_for`, in the shape of the dialect whose base
    path the request is under (see memtui.server.error_shapes)."""
    body: dict[str, Any] = {"error": message, **extra}
    if shaped_for is not None:
        shapes = getattr(shaped_for.app.state, "error_shapes", None)
        if shapes is not None:
            body = shapes.shape(shaped_for.url.path, status, body)
    return StoredDataJSONResponse(body, status_code=status)


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


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, looking into included routers: FastAPI keeps those as one entry
    whose `effective_candidates()` are its routes with the prefix applied."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            yield from _leaf_routes(candidates())
        else:
            yield route


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods of the resource a 405's path names: those of every route with the
    most specific path template that matches it (fewest parameters, then most literal
    text). `/memories/count` also matches `/memories/{memory_id}`, but names the count."""
    import re

    from starlette.routing import Match

    by_template: dict[str, set[str]] = {}
    for route in _leaf_routes(app.router.routes):
        match, _ = route.matches(request.scope)
        path = getattr(route, "path", None)
        if match != Match.NONE and isinstance(path, str):
            by_template.setdefault(path, set()).update(getattr(route, "methods", None) or ())
    if not by_template:
        return []

    def specificity(template: str) -> tuple[int, int]:
        params = re.findall(r"\{[^}]*\}", template)
        return (-len(params), len(template) - sum(len(p) for p in params))

    return sorted(by_template[max(by_template, key=specificity)])


def memtui_error_response(exc: MemtuiError, request: Request | None = None) -> JSONResponse:
    status = exc.http_status
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidInputError) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, VersionConflictError):
        extra["current"] = exc.current.to_json() if exc.current is not None else None
        extra["expected_version"] = exc.expected_version
    message = exc.message
    if isinstance(exc, BackendUnavailableError):
        # The full message (naming the store) goes to the server's log only.
        log.warning("backend unavailable: %s", exc.message)
        response = error_response(status, exc.public, shaped_for=request, **extra)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return error_response(status, message, shaped_for=request, **extra)


def install_error_handlers(app: FastAPI, shapes: ErrorShapes | None = None) -> None:
    """Every error as JSON; `shapes` gives a dialect's base path its own error shape."""
    app.state.error_shapes = shapes or ErrorShapes()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = describe_validation_error(list(exc.errors()))
        extra = {"field": field} if field else {}
        return error_response(400, message, shaped_for=request, **extra)

    @app.exception_handler(MemtuiError)
    async def _memtui(request: Request, exc: MemtuiError) -> JSONResponse:
        return memtui_error_response(exc, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            # FastAPI's own body parsing gave up on the nesting: say where and why.
            return memtui_error_response(
                too_deep_error(request.scope.get(RAW_BODY_SCOPE_KEY, b"")), request
            )
        detail = exc.detail
        if not isinstance(detail, str) or detail in ("Not Found", "Method Not Allowed"):
            detail = STATUS_MESSAGES.get(exc.status_code, "error")
        response = error_response(exc.status_code, detail, shaped_for=request)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path served by
            # several routes (GET, PATCH, DELETE /memories/{id}) allows all of theirs.
            response.headers["Allow"] = ", ".join(allowed_methods(app, request))
        return response

    @app.exception_handler(json.JSONDecodeError)
    async def _json(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        message = f"invalid JSON body: {exc.msg} at line {exc.lineno}"
        return error_response(400, message, shaped_for=request)
