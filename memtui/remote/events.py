"""Follows the server's event stream (GET /api/v1/events, server-sent events) in a
daemon thread and keeps the changes it saw in a bounded buffer.

The buffer holds every change with id in (floor, last_id] — complete, because the
follower resumes after each reconnect with `Last-Event-ID: last_id`, so the server
replays whatever happened while it was away. `changes_since` asks `covers(cursor)`
before serving from it and otherwise falls back to GET /changes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, connect_sse

from memtui.domain.clock import utc_now
from memtui.domain.models import Change

BUFFER_LIMIT = 20_000
# Short and capped: a restarted server is picked up again within about two seconds.
RECONNECT_PAUSES: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)
# The server sends keep-alive comments; a silent stream for this long is a dead one.
STREAM_READ_TIMEOUT = 60.0


def change_from_event(event: ServerSentEvent) -> Change | None:
    """A Change from one SSE message: `id:` change id, `event:` kind, `data:` JSON
    (Change.to_json(), or just the changed object)."""
    if not event.id:
        return None
    try:
        change_id = int(event.id)
        data = json.loads(event.data) if event.data else None
    except ValueError:
        return None
    if isinstance(data, dict) and {"id", "kind", "entity_id"} <= data.keys():
        try:
            change = Change.from_json(data)
        except (TypeError, ValueError):
            return None
        return change if change.id == change_id else Change(**{**_fields(change), "id": change_id})
    obj: dict[str, Any] | None = data if isinstance(data, dict) else None
    entity_id = ""
    if obj is not None:
        entity_id = str(obj.get("id") or obj.get("session_id") or obj.get("key") or "")
    return Change(
        id=change_id,
        kind=event.event,
        entity_id=entity_id,
        at=utc_now(),
        agent_id=obj.get("agent_id") if obj else None,
        session_id=obj.get("session_id") if obj else None,
        data=obj,
    )


def _fields(change: Change) -> dict[str, Any]:
    return {name: getattr(change, name) for name in change.__dataclass_fields__}


class EventFollower:
    """One daemon thread reading the event stream; reconnects with backoff."""

    def __init__(
        self,
        *,
        base_url: str,
        path: str,
        headers: dict[str, str],
        start_after: int,
        on_status: Callable[[bool, str], None],
        describe_failure: Callable[[Exception], str],
    ) -> None:
        self._url = base_url.rstrip("/") + path
        self._headers = {k: v for k, v in headers.items() if k.lower() != "accept"}
        self._on_status = on_status
        self._describe_failure = describe_failure
        self._lock = threading.Lock()
        self._buffer: deque[Change] = deque()
        self._floor = start_after  # every change with id > floor is in the buffer…
        self._last_id = start_after  # …up to here
        self._connected = False
        self._opened = False
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, name="memtui-events", daemon=True)
        self.reconnects = 0  # how many times the stream had to be reopened

    def start(self) -> None:
        self._thread.start()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def last_id(self) -> int:
        return self._last_id

    def covers(self, cursor: int) -> bool:
        """True if the buffer holds every change after `cursor` known to the stream, and
        the stream is live (so nothing newer is waiting behind a broken connection)."""
        with self._lock:
            return self._connected and cursor >= self._floor

    def since(self, cursor: int, limit: int) -> list[Change]:
        with self._lock:
            found = [c for c in self._buffer if c.id > cursor]
        return found[:limit]

    def _append(self, change: Change) -> None:
        with self._lock:
            if change.id <= self._last_id:
                return  # a replay of something already buffered
            self._buffer.append(change)
            self._last_id = change.id
            while len(self._buffer) > BUFFER_LIMIT:
                self._floor = self._buffer.popleft().id

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        timeout = httpx.Timeout(10.0, read=STREAM_READ_TIMEOUT)
        with httpx.Client(headers=self._headers, timeout=timeout) as client:
            while not self._stop.is_set():
                self._opened = False
                try:
                    self._follow(client)
                    reason = "the event stream ended"
                except Exception as exc:  # any failure means: reconnect later
                    reason = self._describe_failure(exc)
                finally:
                    self._set_connected(False)
                if self._stop.is_set():
                    break
                if self._opened:
                    failures = 0  # it worked for a while: start the backoff afresh
                self._on_status(False, reason)
                pause = RECONNECT_PAUSES[min(failures, len(RECONNECT_PAUSES) - 1)]
                failures += 1
                self.reconnects += 1
                self._stop.wait(pause)

    def _follow(self, client: httpx.Client) -> None:
        headers = {"accept": "text/event-stream", "last-event-id": str(self._last_id)}
        with connect_sse(client, "GET", self._url, headers=headers) as source:
            response = source.response
            if response.status_code != 200:
                response.read()
                raise StreamRefused(response.status_code, _error_text(response))
            self._response = response
            try:
                self._opened = True
                self._set_connected(True)
                self._on_status(True, "")
                for event in source.iter_sse():
                    if self._stop.is_set():
                        return
                    change = change_from_event(event)
                    if change is not None:
                        self._append(change)
            finally:
                self._response = None

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            self._connected = connected

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread: wake a blocked read by shutting the socket down."""
        self._stop.set()
        response = self._response
        if response is not None:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive():
            self._thread.join(timeout)


class StreamRefused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return response.reason_phrase
