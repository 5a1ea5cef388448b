"""tests/helpers/plain_memtrace.py: a stand-in for a real Memtrace server (no
extensions, Memtrace's own shapes), used to test clients' capability detection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from memtrace import models as sdk

from tests.helpers.live_server import LiveServer, start_live_server


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("plain") / "plain.db"
    with start_live_server(f"sqlite:///{db}", plain_memtrace=True) as live:
        yield live


def test_health_is_memtraces_shape(plain: LiveServer) -> None:
    body = httpx.get(f"{plain.url}/health").json()
    assert body["status"] == "ok" and body["service"] == "memtrace"
    assert "features" not in body and "version" not in body
    assert httpx.get(f"{plain.url}/api/v1/health").status_code == 401
    assert httpx.get(f"{plain.url}/openapi.json").status_code == 404


def test_memories_have_no_id_and_omit_empty_fields(plain: LiveServer) -> None:
    with plain.client() as api:
        body = api.post("/memories", json={"agent_id": "a", "content": "hello"}).json()
        assert "id" not in body
        for absent in ("session_id", "tags", "metadata", "importance", "parent_id"):
            assert absent not in body
        sdk.Memory.model_validate(body)
        listed = api.get("/memories", params={"limit": 1}).json()
        assert set(listed) == {"memories", "count", "has_more"}
        assert listed["has_more"] is True  # Memtrace: a full page may have more
        bad = api.post("/memories", json={"agent_id": "a", "content": "x", "memory_type": "skill"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid memory_type: skill"
        found = api.get("/memories/hello")  # Memtrace looks the "id" up as content
        assert found.status_code == 200 and found.json()["content"] == "hello"


def test_sessions_have_no_extensions(plain: LiveServer) -> None:
    with plain.client() as api:
        session = api.post(
            "/sessions", json={"agent_id": "a", "ttl_seconds": 60, "session_id": "sess_mine"}
        ).json()
        sdk.Session.model_validate(session)
        for absent in ("session_id", "expires_at", "workspace_id"):
            assert absent not in session
        assert session["id"] != "sess_mine" and session["status"] == "active"
        context = api.post(f"/sessions/{session['id']}/context", json={"max_tokens": 100})
        assert set(context.json()) == {"session_id", "context", "memory_count"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/sessions/{sid}/extend"),
        ("GET", "/sessions/{sid}/working-memory"),
        ("PUT", "/sessions/{sid}/working-memory/k"),
        ("POST", "/sessions/{sid}/commit"),
        ("GET", "/sessions/{sid}/snapshots"),
        ("GET", "/snapshots/latest"),
        ("GET", "/briefing"),
        ("GET", "/events"),
        ("GET", "/changes"),
        ("GET", "/memories/count"),
        ("GET", "/memory-types"),
    ],
)
def test_extensions_are_absent(plain: LiveServer, method: str, path: str) -> None:
    with plain.client() as api:
        sid = api.post("/sessions", json={"agent_id": "a"}).json()["id"]
        response = api.request(method, path.format(sid=sid), json={"value": 1})
    assert response.status_code in (404, 405)
    assert "error" in response.json()
