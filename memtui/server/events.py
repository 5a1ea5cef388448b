"""`GET /api/v1/events`: the store's change feed as Server-Sent Events.

Each change becomes one event: `id:` the change id (monotonic), `event:` its kind
(`session.created`, `memory.deleted`, ...), `data:` the change as JSON
(`Change.to_json()`: id, kind, entity_id, at, agent_id, session_id and `data`, the
object itself). A client that reconnects with `Last-Event-ID` (or `?last_event_id=`)
gets everything after that id, so nothing is missed or repeated. Comment lines keep idle
connections alive; streams end when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request

from memtui.backend import Backend
from memtui.domain.models import Change
from memtui.server.responses import dumps_for_client

POLL_INTERVAL_SECONDS = 0.05
HEARTBEAT_SECONDS = 15.0
BATCH_LIMIT = 500
RETRY_MILLISECONDS = 1000


def format_event(change: Change) -> str:
    # ASCII escapes only when needed: a stored lone surrogate cannot be sent as UTF-8.
    payload = dumps_for_client(change.to_json()).decode("utf-8")
    # json.dumps never emits a raw newline, so the payload is a single data line.
    return f"id: {change.id}\nevent: {change.kind}\ndata: {payload}\n\n"


class WriteSignal:
    """Wakes the event streams as soon as this server has handled a write, instead of
    at their next poll. Writes by other processes are still found by polling."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        # Called on the event loop: wake every waiter, then re-arm.
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


def _changes_after(backend: Backend, cursor: int) -> list[Change]:
    return backend.changes_since(cursor, limit=BATCH_LIMIT)


async def change_stream(
    request: Request,
    backend: Backend,
    cursor: int,
    *,
    stop: threading.Event,
    poll_interval: float = POLL_INTERVAL_SECONDS,
    writes: WriteSignal | None = None,
    heartbeat: float | None = None,
) -> AsyncIterator[str]:
    if heartbeat is None:
        # Tests shorten it through the environment of the server process.
        heartbeat = float(os.environ.get("MEMTUI_SSE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    yield f"retry: {RETRY_MILLISECONDS}\n: connected at change {cursor}\n\n"
    last_sent = time.monotonic()
    while not stop.is_set():
        changes = await anyio.to_thread.run_sync(_changes_after, backend, cursor)
        if changes:
            chunk = "".join(format_event(change) for change in changes)
            cursor = changes[-1].id
            yield chunk
            last_sent = time.monotonic()
            if len(changes) == BATCH_LIMIT:
                continue  # catching up: no pause
        elif time.monotonic() - last_sent >= heartbeat:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        if await request.is_disconnected():
            return
        if writes is not None:
            await writes.wait(poll_interval)
        else:
            await anyio.sleep(poll_interval)
