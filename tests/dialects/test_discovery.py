"""/health lists the dialects served; /openapi.json tags every route by its dialect."""

from __future__ import annotations

import httpx

from tests.helpers.live_server import LiveServer


def _dialects(server: LiveServer) -> dict[str, str]:
    health = httpx.get(server.url + "/health", timeout=10).json()
    return {d["name"]: d["base_path"] for d in health["dialects"]}


def test_health_lists_memtrace_first_then_each_dialect(server: LiveServer) -> None:
    health = httpx.get(server.url + "/health", timeout=10).json()
    assert health["dialects"][0] == {
        "name": "memtrace",
        "system": "Memtrace v1",
        "base_path": "/api/v1",
    }
    assert _dialects(server)["zeromemory"] == "/api/v1/public/memory/v2/session"
    assert _dialects(server)["memorylayer"] == "/v1"
    assert _dialects(server)["memanto"] == "/api/v2"
    # The same answer under the API base path.
    assert httpx.get(server.url + "/api/v1/health", timeout=10).json() == health


def test_openapi_tags_every_dialect_route_with_its_dialect(server: LiveServer) -> None:
    schema = httpx.get(server.url + "/openapi.json", timeout=10).json()
    bases = {name: base for name, base in _dialects(server).items() if name != "memtrace"}
    seen: dict[str, int] = {name: 0 for name in bases}
    for path, operations in schema["paths"].items():
        # The longest base path a route is under is its dialect.
        owners = [n for n, b in bases.items() if path == b or path.startswith(b + "/")]
        for operation in operations.values():
            if owners:
                owner = max(owners, key=lambda n: len(bases[n]))
                assert operation["tags"] == [owner], path
                seen[owner] += 1
            else:
                assert not set(operation["tags"]) & set(bases), path
    assert all(seen.values()), seen


def test_what_every_dialect_writes_streams_on_api_v1_events(server: LiveServer) -> None:
    from tests.helpers.sse import events

    with server.client(timeout=10) as memtrace:
        cursor = memtrace.get("/changes").json()["latest_id"]
    bearer = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.url, headers=bearer, timeout=10) as http:
        token = http.post("/api/v2/agents/ev-memanto/activate").json()["session_token"]
        http.post(
            "/api/v2/agents/ev-memanto/remember",
            params={"content": "via memanto"},
            headers={"X-Session-Token": token},
        )
        ml = http.post("/v1/sessions", json={"workspace_id": "ev-ml"}).json()["session"]["id"]
        http.post(f"/v1/sessions/{ml}/memory", json={"key": "k", "value": 1})
        http.post(
            "/v1/memories", json={"content": "via memorylayer"}, headers={"X-Workspace-ID": "ev-ml"}
        )
        http.post("/api/v1/public/memory/v2/session", json={"session_id": "ev-zero"})
    seen: list[tuple[str, str | None]] = []
    with events(server, last_event_id=cursor) as stream:
        while len(seen) < 7:
            event = stream.next_event()
            if not event.kind.startswith("agent."):  # new agents are registered on the way
                seen.append((event.kind, event.data.get("agent_id")))
    assert seen == [
        ("session.created", "ev-memanto"),
        ("memory.created", "ev-memanto"),
        ("session.created", "ev-ml"),
        ("working_memory.changed", "ev-ml"),
        ("memory.created", "ev-ml"),
        ("session.created", "zeromemory"),
        ("snapshot.created", "zeromemory"),
    ]
