"""Reading `GET /api/v1/events` (server-sent events) in tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    id: int
    kind: str
    data: dict[str, Any]


class EventReader:
    """Reads one SSE response line by line; comments are kept for heartbeat checks."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next_event(self) -> Event:
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        raise EOFError("stream ended")

    def take(self, count: int) -> list[Event]:
        return [self.next_event() for _ in range(count)]


@contextmanager
def events(
    server: Any, *, last_event_id: int | None = None, query: bool = False
) -> Iterator[EventReader]:
    headers = dict(server.headers)
    params = {}
    if last_event_id is not None:
        if query:
            params["last_event_id"] = str(last_event_id)
        else:
            headers["Last-Event-ID"] = str(last_event_id)
    timeout = httpx.Timeout(10.0, read=10.0)
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(
            "GET", f"{server.api_url}/events", headers=headers, params=params
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)
