"""The SSE stream `GET /api/v1/events`: receive, disconnect, resume with Last-Event-ID
(nothing missed, nothing twice), heartbeats, time-driven `session.expired`, and clean
shutdown with streams open."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from tests.helpers.sse import events


def latest_change(api: httpx.Client) -> int:
    return int(api.get("/changes", params={"limit": 1}).json()["latest_id"])


def test_writes_arrive_as_events_in_order(server: Any, api: httpx.Client) -> None:
    with events(server) as reader:

        def write() -> None:
            time.sleep(0.2)
            session = api.post("/sessions", json={"agent_id": "agent_sse"}).json()
            api.post(
                "/memories",
                json={"agent_id": "agent_sse", "session_id": session["id"], "content": "hi"},
            )
            api.put(f"/sessions/{session['id']}/working-memory/k", json={"value": [1]})
            api.post(f"/sessions/{session['id']}/snapshots", json={"event": "checkpoint"})
            api.delete(f"/sessions/{session['id']}")

        writer = threading.Thread(target=write)
        writer.start()
        received = reader.take(6)
        writer.join()
    kinds = [e.kind for e in received]
    assert kinds == [
        "agent.created",  # the first session of an unknown agent registers it
        "session.created",
        "memory.created",
        "working_memory.changed",
        "snapshot.created",
        "session.deleted",
    ]
    ids = [e.id for e in received]
    assert ids == sorted(ids) and len(set(ids)) == 6
    created = received[1].data
    assert created["kind"] == "session.created" and created["id"] == received[1].id
    assert created["data"]["agent_id"] == "agent_sse" and created["data"]["status"] == "active"
    assert received[2].data["data"]["content"] == "hi"
    assert received[5].data["session_id"] == created["data"]["id"]


@pytest.mark.parametrize("via_query", [False, True])
def test_resume_after_disconnect_misses_and_repeats_nothing(
    server: Any, api: httpx.Client, via_query: bool
) -> None:
    api.post("/agents", json={"name": f"agent_resume_{via_query}"})
    start = latest_change(api)
    contents = [f"note {i}" for i in range(30)]
    with events(server, last_event_id=start) as reader:
        api.post(
            "/memories", json={"agent_id": f"agent_resume_{via_query}", "content": contents[0]}
        )
        first = reader.take(1)
    # Disconnected: these happen while nobody listens.
    for content in contents[1:]:
        api.post("/memories", json={"agent_id": f"agent_resume_{via_query}", "content": content})
    with events(server, last_event_id=first[-1].id, query=via_query) as reader:
        rest = reader.take(len(contents) - 1)
    got = [e.data["data"]["content"] for e in first + rest]
    assert got == contents
    ids = [e.id for e in first + rest]
    assert ids == sorted(set(ids))


def test_without_last_event_id_only_new_changes_come(server: Any, api: httpx.Client) -> None:
    api.post("/memories", json={"agent_id": "agent_new", "content": "old news"})
    with events(server) as reader:
        time.sleep(0.3)
        api.post("/memories", json={"agent_id": "agent_new", "content": "fresh"})
        event = reader.next_event()
    assert event.data["data"]["content"] == "fresh"


def test_bad_last_event_id_is_a_400(server: Any) -> None:
    response = httpx.get(
        f"{server.api_url}/events", headers={**server.headers, "Last-Event-ID": "yesterday"}
    )
    assert response.status_code == 400 and "Last-Event-ID" in response.json()["error"]


def test_heartbeats_keep_idle_streams_alive(start_server: Any) -> None:
    live = start_server(extra_env={"MEMTUI_SSE_HEARTBEAT_SECONDS": "0.3"})
    with events(live) as reader:
        lines = []
        for line in reader.lines:
            lines.append(line)
            if line == ": heartbeat":
                break
    assert ": heartbeat" in lines


def test_session_expiry_is_an_event_driven_by_the_clock(start_server: Any, file_clock: Any) -> None:
    live = start_server(clock_file=file_clock.path)
    with live.client() as api:
        session = api.post("/sessions", json={"agent_id": "agent_exp", "ttl_seconds": 60}).json()
        forever = api.post("/sessions", json={"agent_id": "agent_exp", "ttl_seconds": None}).json()
        with events(live) as reader:
            file_clock.advance(seconds=61)
            event = reader.next_event()
        assert event.kind == "session.expired"
        assert event.data["entity_id"] == session["id"]
        assert event.data["data"]["status"] == "expired"
        assert api.get(f"/sessions/{session['id']}").json()["status"] == "expired"
        assert api.get(f"/sessions/{forever['id']}").json()["status"] == "active"

        # Extended after expiry, it can expire again: one more event, not a repeat.
        api.post(f"/sessions/{session['id']}/extend", json={"seconds": 30})
        cursor = latest_change(api)
        file_clock.advance(seconds=31)
        with events(live, last_event_id=cursor) as reader:
            again = reader.next_event()
        assert (again.kind, again.data["entity_id"]) == ("session.expired", session["id"])

        # Expired while the server was down: reported after the restart, once.
        other = api.post("/sessions", json={"agent_id": "agent_exp", "ttl_seconds": 10}).json()
        cursor = latest_change(api)
    live.stop()
    file_clock.advance(seconds=11)
    live.start()
    with live.client() as api, events(live, last_event_id=cursor) as reader:
        late = reader.next_event()
        assert (late.kind, late.data["entity_id"]) == ("session.expired", other["id"])
        time.sleep(0.8)
        changes = api.get("/changes", params={"after": cursor}).json()["changes"]
    expired = [c for c in changes if c["kind"] == "session.expired"]
    assert [c["entity_id"] for c in expired] == [other["id"]]


def test_sigterm_with_open_streams_stops_cleanly(start_server: Any) -> None:
    live = start_server()
    with events(live) as reader:
        started = time.monotonic()
        code = live.stop()
        elapsed = time.monotonic() - started
        with pytest.raises((EOFError, httpx.HTTPError)):
            reader.next_event()
    assert code == 0 and elapsed < 5
    assert "memtui serve: stopped" in live.output()
    assert "Traceback" not in live.output()
