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

from memtui.server.auth import KeyStore

log = logging.getLogger("memtui.server")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _BodyTooLarge(Exception):
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


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _replaying(message: Message) -> Receive:
    async def receive() -> Message:
        return message

    return receive


class ApiGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        key_store: KeyStore,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        public_paths: frozenset[str] = frozenset(),
        protected_prefix: str = "/api/v1",
        on_write: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.key_store = key_store
        self.max_body_bytes = max_body_bytes
        self.public_paths = public_paths
        self.protected_prefix = protected_prefix
        self.on_write = on_write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(self.protected_prefix) and path not in self.public_paths:
            key = api_key_from_headers(scope.get("headers", ()))
            if not key:
                await _send_json(send, 401, {"error": "missing API key"})
                return
            key_id = self.key_store.verified_recently(key)
            if key_id is None:
                key_id = await anyio.to_thread.run_sync(self.key_store.verify, key)
            if key_id is None:
                await _send_json(send, 401, {"error": "invalid API key"})
                return
            scope.setdefault("state", {})["api_key_id"] = key_id

        if scope.get("method") in _BODY_METHODS:
            try:
                receive = await self._buffered_body(scope, receive)
            except _BodyTooLarge:
                await _send_json(
                    send,
                    413,
                    {"error": f"request body larger than {self.max_body_bytes} bytes"},
                )
                return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
            if self.on_write is not None and scope.get("method") in _BODY_METHODS:
                self.on_write()
        except Exception:
            # Log server-side (the traceback holds no secrets: keys never reach routes'
            # locals, only their ids), answer with a generic message.
            log.exception("unhandled error in %s %s", scope.get("method"), path)
            if not started:
                await _send_json(send, 500, {"error": "internal server error"})

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
                # Client went away before sending the body: replay the disconnect.
                return _replaying(message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay
