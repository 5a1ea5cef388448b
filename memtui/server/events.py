"""`GET /api/v1/events`: the store's change feed as Server-Sent Events.

Each change becomes one event: `id:` the change id (monotonic), `event:` its kind
(`session.created`, `memory.deleted`, ...), `data:` the change as JSON
(`Change.to_json()`: id, kind, entity_id, at, agent_id, session_id and `data`, the
object itself). A client that reconnects with `Last-Event-ID` (or `?last_event_id=`)
gets everything after that id, so nothing is missed or repeated. Comment lines keep idle
connections alive; streams end when the server shuts down, and when the key a stream
was opened with is revoked.

Streams do not poll the store each. One ChangeHub per server wakes them when changes
may have been appended:
- this process's commits (the store's change listener);
- on PostgreSQL, every process's commits, through LISTEN/NOTIFY on a connection of its
  own;
- otherwise (SQLite written by another process, or PostgreSQL while LISTEN is down) one
  watcher that asks for the newest change id every second.
Streams woken together read the feed once between them (one read per cursor and wake),
so a write costs one query however many streams are open. The same watcher checks, once
a second and in one query, that the keys of open streams are still valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from memtui.backend import Backend, ChangeChannel, HasChangeChannel
from memtui.domain.models import Change
from memtui.server.responses import dumps_for_client

log = logging.getLogger("memtui.server")

HEARTBEAT_SECONDS = 15.0
BATCH_LIMIT = 500
RETRY_MILLISECONDS = 1000
DEFAULT_MAX_EVENT_STREAMS = 200
# Over the cap: come back after this long.
STREAMS_RETRY_AFTER_SECONDS = 5
# How often the watcher looks for other processes' writes and revoked keys.
WATCH_SECONDS = 1.0
# With LISTEN/NOTIFY working, the watcher still looks this often, as a safety net.
WATCH_SECONDS_WITH_NOTIFY = 5.0
# The PostgreSQL listener's reconnect pause after its connection failed.
LISTEN_RETRY_SECONDS = 2.0


def format_event(change: Change) -> str:
    # ASCII escapes only when needed: a stored lone surrogate cannot be sent as UTF-8.
    payload = dumps_for_client(change.to_json()).decode("utf-8")
    # json.dumps never emits a raw newline, so the payload is a single data line.
    return f"id: {change.id}\nevent: {change.kind}\ndata: {payload}\n\n"


@dataclass(eq=False)
class StreamHandle:
    """One open stream: the key it was opened with, and why it must end (if it must)."""

    key_id: str | None
    ended: str | None = None


@dataclass
class _Batch:
    changes: list[Change] = field(default_factory=list)
    chunk: str = ""


class ChangeHub:
    """Wakes the event streams of one server; see the module docstring. Its methods are
    called on the event loop, except `notify` and `close` (any thread)."""

    def __init__(
        self,
        backend: Backend,
        *,
        max_streams: int = DEFAULT_MAX_EVENT_STREAMS,
        keys_active: Callable[[set[str]], set[str]] | None = None,
        channel: ChangeChannel | None = None,
        watch_seconds: float = WATCH_SECONDS,
        stop: threading.Event | None = None,
    ) -> None:
        self.backend = backend
        self.max_streams = max_streams
        self._keys_active = keys_active
        self._channel = channel  # other processes' commits are announced here
        self._watch_seconds = watch_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._generation = 0
        self._woken = asyncio.Event()
        self._flights: dict[tuple[int, int], asyncio.Future[_Batch]] = {}
        self.streams: set[StreamHandle] = set()
        self._closed = stop or threading.Event()  # set: every stream ends
        self._listening = threading.Event()  # the PostgreSQL listener is connected
        self._watcher: asyncio.Task[None] | None = None
        self._listener: threading.Thread | None = None
        self._latest_seen: int | None = None

    # --- lifecycle (on the loop) ---------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self._watcher = self._loop.create_task(self._watch())
        if self._channel is not None:
            self._listener = threading.Thread(
                target=self._listen, name="memtui-change-listener", daemon=True
            )
            self._listener.start()

    async def stop(self) -> None:
        self.close()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._listener is not None:
            await anyio.to_thread.run_sync(self._listener.join, LISTEN_RETRY_SECONDS + 2)

    def close(self) -> None:
        """Ends every stream (server shutdown). Safe from any thread or signal handler."""
        self._closed.set()
        self.notify()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # --- waking ---------------------------------------------------------------------------

    def notify(self) -> None:
        """Changes may have been appended: wake every stream. Any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._generation += 1
        self._woken.set()
        self._woken = asyncio.Event()

    @property
    def generation(self) -> int:
        return self._generation

    async def wait(self, generation: int, timeout: float) -> None:
        """Returns once woken after `generation`, or after `timeout` seconds."""
        if self._generation != generation:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), timeout)

    # --- reading, shared ----------------------------------------------------------------

    async def changes_after(self, cursor: int, generation: int) -> _Batch:
        """The changes after `cursor`, read once for every stream asking with the same
        cursor since the same wake (`generation` is read before asking, so the read
        starts after every commit that wake announced)."""
        key = (cursor, generation)
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._read(cursor))
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        # Shielded: a stream whose client left must not cancel the others' read.
        return await asyncio.shield(flight)

    async def _read(self, cursor: int) -> _Batch:
        def read() -> _Batch:
            changes = self.backend.changes_since(cursor, limit=BATCH_LIMIT)
            return _Batch(changes, "".join(format_event(change) for change in changes))

        return await anyio.to_thread.run_sync(read)

    # --- streams --------------------------------------------------------------------------

    def open_stream(self, key_id: str | None) -> StreamHandle | None:
        """A handle for a new stream, or None when `max_streams` are open."""
        if len(self.streams) >= self.max_streams:
            return None
        handle = StreamHandle(key_id)
        self.streams.add(handle)
        return handle

    def close_stream(self, handle: StreamHandle) -> None:
        self.streams.discard(handle)

    # --- the watcher (on the loop) ------------------------------------------------------

    async def _watch(self) -> None:
        last_look = 0.0
        while not self.closed:
            await asyncio.sleep(self._watch_seconds)
            if not self.streams:
                self._latest_seen = None  # the first look with streams open wakes them
                continue
            now = time.monotonic()
            look = not self._listening.is_set() or now - last_look >= WATCH_SECONDS_WITH_NOTIFY
            try:
                await self._watch_once(look_for_changes=look)
            except Exception as exc:  # noqa: BLE001 - the store may be down; keep watching
                log.warning("event streams: cannot check the store: %s", exc)
            if look:
                last_look = now

    async def _watch_once(self, *, look_for_changes: bool) -> None:
        key_ids = {handle.key_id for handle in self.streams if handle.key_id is not None}

        def check() -> tuple[int | None, set[str] | None]:
            latest = self.backend.latest_change_id() if look_for_changes else None
            active = (
                self._keys_active(key_ids) if key_ids and self._keys_active is not None else None
            )
            return latest, active

        latest, active = await anyio.to_thread.run_sync(check)
        if active is not None:
            revoked = [h for h in self.streams if h.key_id is not None and h.key_id not in active]
            for handle in revoked:
                handle.ended = "the API key of this stream was revoked"
            if revoked:
                self._wake()
        if latest is not None:
            if latest != self._latest_seen:
                self._wake()  # written by another process (or the first look)
            self._latest_seen = latest

    # --- PostgreSQL LISTEN (its own thread and connection) ------------------------------

    def _listen(self) -> None:
        import psycopg

        channel = self._channel
        assert channel is not None
        failures = 0
        while not self.closed:
            try:
                with psycopg.connect(channel.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {channel.name}")
                    self._listening.set()
                    failures = 0
                    self.notify()  # writes while it was down are not missed
                    # This server's own writes woke the streams already (the store's
                    # change listener); only other processes' need waking for.
                    while not self.closed:
                        for notification in conn.notifies(timeout=1.0):
                            if notification.payload != channel.own_payload:
                                self.notify()
            except Exception as exc:  # noqa: BLE001 - reconnect; the watcher polls meanwhile
                self._listening.clear()
                failures += 1
                if failures == 1:
                    log.warning("event streams: LISTEN connection lost (%s); polling", exc)
                self._closed.wait(LISTEN_RETRY_SECONDS)
        self._listening.clear()


def change_channel_of(backend: Backend) -> ChangeChannel | None:
    """The channel on which every process's commits are announced (PostgreSQL's
    LISTEN/NOTIFY); None for a backend without one."""
    return backend.change_channel() if isinstance(backend, HasChangeChannel) else None


async def change_stream(
    hub: ChangeHub,
    handle: StreamHandle,
    cursor: int,
    *,
    heartbeat: float | None = None,
) -> AsyncIterator[str]:
    if heartbeat is None:
        # Tests shorten it through the environment of the server process.
        heartbeat = float(os.environ.get("MEMTUI_SSE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    yield f"retry: {RETRY_MILLISECONDS}\n: connected at change {cursor}\n\n"
    last_sent = time.monotonic()
    generation = hub.generation
    while not hub.closed and handle.ended is None:
        try:
            batch = await hub.changes_after(cursor, generation)
        except Exception as exc:  # noqa: BLE001 - the store failed: end; the client resumes
            log.warning("event stream ended: cannot read the change feed: %s", exc)
            return
        if handle.ended is not None:
            break  # revoked while reading: deliver nothing more
        if batch.changes:
            cursor = batch.changes[-1].id
            yield batch.chunk
            last_sent = time.monotonic()
            if len(batch.changes) == BATCH_LIMIT:
                generation = hub.generation
                continue  # catching up: no pause
        elif time.monotonic() - last_sent >= heartbeat:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        await hub.wait(generation, max(0.0, heartbeat - (time.monotonic() - last_sent)))
        generation = hub.generation
    if handle.ended is not None:
        yield f": {handle.ended}\n\n"


class EventStreamResponse(StreamingResponse):
    """The SSE response; gives its slot back however the stream ends (or never starts)."""

    def __init__(self, hub: ChangeHub, handle: StreamHandle, cursor: int) -> None:
        super().__init__(
            change_stream(hub, handle, cursor),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._hub = hub
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._hub.close_stream(self._handle)
