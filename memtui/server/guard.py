"""The ASGI middleware in front of every route: a request body size limit, API-key
authentication, and a last-resort 500 that never leaks a traceback to the client.

Auth runs here rather than as a FastAPI dependency so that it comes first: a request
without a valid key gets 401 even when its body is malformed or too large.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio

from memtui.backend import KeyStore
from memtui.domain.actor import acting_as
from memtui.domain.errors import BackendUnavailableError
from memtui.server.error_shapes import ErrorShapes, under
from memtui.server.errors import RAW_BODY_SCOPE_KEY, RETRY_AFTER_SECONDS

log = logging.getLogger("memtui.server")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
PUBLIC_ACTOR = "http"  # a request outside the key-protected paths
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


def api_key_from_headers(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """`x-api-key`, else `Authorization: Bearer <key>`, as Memtrace reads them."""
    api_key = ""
    authorization = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"x-api-key":
            api_key = value.decode("latin-1").strip()
        elif lowered == b"authorization":
            authorization = value.decode("latin-1").strip()
    if api_key:
        return api_key
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return ""


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _is_store_error(exc: BaseException) -> bool:
    return isinstance(exc, BackendUnavailableError)


ShapedSend = Callable[..., Awaitable[None]]  # (status, body, headers=()) -> None


async def _send_store_error(send: ShapedSend, exc: BaseException, doing: str) -> None:
    """A JSON 503 with Retry-After for a store that failed (a backend and its key store
    raise BackendUnavailableError); its full description (URL, driver's message) goes
    to the log only. Anything else is a logged generic 500."""
    if not isinstance(exc, BackendUnavailableError):
        log.error("store error while %s: %s", doing, exc)
        await send(500, {"error": "internal server error"})
        return
    log.warning("store unavailable while %s: %s", doing, exc.message)
    retry = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
    await send(503, {"error": exc.public}, (retry,))


def _nul_in_url(scope: Scope) -> dict[str, Any] | None:
    """A 400 body when the path or a query parameter holds a NUL character: no stored
    text can (both stores refuse it), and PostgreSQL cannot even compare with one."""
    if "\x00" in scope.get("path", ""):
        return {"error": "the URL path contains a NUL character (%00)", "field": "path"}
    raw: bytes = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    from urllib.parse import parse_qsl

    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "\\x00")
            return {
                "error": f"query parameter {field} contains a NUL character (%00)",
                "field": field,
            }
    return None


class ApiGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        key_store: KeyStore,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        public_paths: frozenset[str] = frozenset(),
        protected_prefixes: tuple[str, ...] = ("/api/v1",),
        on_write: Callable[[], None] | None = None,
        error_shapes: ErrorShapes | None = None,
    ) -> None:
        self.app = app
        self.key_store = key_store
        self.max_body_bytes = max_body_bytes
        self.public_paths = public_paths
        # Memtrace v1 and every server dialect's base path need a key.
        self.protected_prefixes = protected_prefixes
        self.on_write = on_write
        self.error_shapes = error_shapes or ErrorShapes()
        self._key_names: dict[str, str] = {}  # key id -> actor name (names never change)

    async def _actor_for(self, key_id: str) -> str:
        """The actor a key's writes are attributed to: its name (`key:<id>` if it has
        none). Read once per key (the listing is in the store, off the event loop)."""
        try:
            infos = await anyio.to_thread.run_sync(self.key_store.list)
        except Exception:  # noqa: BLE001 - attribution must never fail a request
            return f"key:{key_id}"
        for info in infos:
            self._key_names[info.id] = info.name or f"key:{info.id}"
        return self._key_names.get(key_id, f"key:{key_id}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        shaped = self._sender(path, send)
        protected = any(under(path, prefix) for prefix in self.protected_prefixes)
        if protected and path not in self.public_paths:
            key = api_key_from_headers(scope.get("headers", ()))
            if not key:
                await shaped(401, {"error": "missing API key"})
                return
            try:
                key_id = self.key_store.verified_recently(key)
                if key_id is None:
                    key_id = await anyio.to_thread.run_sync(self.key_store.verify, key)
            except Exception as exc:  # the key table is in the store: it may be down
                await _send_store_error(shaped, exc, "verifying an API key")
                return
            if key_id is None:
                await shaped(401, {"error": "invalid API key"})
                return
            scope.setdefault("state", {})["api_key_id"] = key_id
            actor = self._key_names.get(key_id)
            if actor is None:
                actor = await self._actor_for(key_id)
        else:
            actor = PUBLIC_ACTOR

        bad_text = _nul_in_url(scope)
        if bad_text is not None:
            await shaped(400, bad_text)
            return

        if scope.get("method") in _BODY_METHODS:
            try:
                receive = await self._buffered_body(scope, receive)
            except _ClientGone:
                return  # nobody to answer
            except _BodyTooLarge:
                too_large = f"request body larger than {self.max_body_bytes} bytes"
                await shaped(413, {"error": too_large})
                return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # Every write this request makes is the key's (history, trash): the actor
            # follows into the threadpool, which copies the context.
            with acting_as(actor):
                await self.app(scope, receive, tracking_send)
            if self.on_write is not None and scope.get("method") in _BODY_METHODS:
                self.on_write()
        except Exception as exc:
            if not started and _is_store_error(exc):
                await _send_store_error(shaped, exc, f"{scope.get('method')} {path}")
                return
            # Log server-side (the traceback holds no secrets: keys never reach routes'
            # locals, only their ids), answer with a generic message.
            log.exception("unhandled error in %s %s", scope.get("method"), path)
            if not started:
                await shaped(500, {"error": "internal server error"})

    def _sender(self, path: str, send: Send) -> ShapedSend:
        """Sends an error body in the shape of the dialect that `path` is under."""

        async def shaped(
            status: int, body: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()
        ) -> None:
            await _send_json(send, status, self.error_shapes.shape(path, status, body), headers)

        return shaped

    async def _buffered_body(self, scope: Scope, receive: Receive) -> Receive:
        """Reads the whole body (chunked or not) up to the limit, then replays it."""
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        raise _BodyTooLarge
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise _ClientGone  # it went away (or timed out) before its body came
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        scope[RAW_BODY_SCOPE_KEY] = body  # for error messages about its content
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay
