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
