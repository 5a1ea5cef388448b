"""MemoryLayer (seed 002) on `memtui serve` over raw HTTP: every route's answer has the
fields the real server's OpenAPI declares (peer_openapi/), errors are MemoryLayer's
`{error, message, details}` naming the bad value, and what is written is memtui's own
(the workspace is an agent, working memory is versioned, the change feed sees it all)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from memtui.domain.clock import FileClock
from tests.dialects.digest import missing_fields, success_model
from tests.helpers.hostile import CONTROL_STRINGS, MARKUP_STRINGS
from tests.helpers.live_server import LiveServer

SESSIONS = "memorylayer-sessions-api.txt"
MEMORIES = "memorylayer-memories-api.txt"


def _api(server: LiveServer, workspace: str | None = None) -> httpx.Client:
    headers = dict(server.headers)
    if workspace:
        headers["X-Workspace-ID"] = workspace
    return httpx.Client(base_url=server.url + "/v1", headers=headers, timeout=10)


def _check(answer: httpx.Response, digest: str, method: str, path: str) -> Any:
    status, model = success_model(digest, method, path)
    assert answer.status_code == status, (method, path, answer.text)
    if model is None:
        return None
    body = answer.json()
    assert missing_fields(model, body) == [], (method, path)
    return body


def test_every_route_answers_the_real_servers_declared_fields(server: LiveServer) -> None:
    with _api(server, "ml-shapes") as api:
        created = _check(
            api.post(
                "/sessions",
                json={
                    "ttl_seconds": 600,
                    "metadata": {"m": 1},
                    "working_memory": {"k0": [1]},
                    "briefing": True,
                },
            ),
            SESSIONS,
            "POST",
            "/v1/sessions",
        )
        sid = created["session"]["id"]
        assert created["briefing"]["workspace_summary"]["workspace_id"] == "ml-shapes"
        _check(api.get("/sessions"), SESSIONS, "GET", "/v1/sessions")
        _check(api.get("/sessions/briefing"), SESSIONS, "GET", "/v1/sessions/briefing")
        one = _check(api.get(f"/sessions/{sid}"), SESSIONS, "GET", "/v1/sessions/{session_id}")
        assert one["id"] == one["session"]["id"] == sid  # both shapes at once
        _check(
            api.post(f"/sessions/{sid}/memory", json={"key": "k", "value": {"v": 1}}),
            SESSIONS,
            "POST",
            "/v1/sessions/{session_id}/memory",
        )
        flat = _check(
            api.get(f"/sessions/{sid}/memory"), SESSIONS, "GET", "/v1/sessions/{session_id}/memory"
        )
        assert flat == {"k": {"v": 1}, "k0": [1]}
        _check(
            api.post(f"/sessions/{sid}/touch"), SESSIONS, "POST", "/v1/sessions/{session_id}/touch"
        )
        _check(
            api.post(f"/sessions/{sid}/commit", json={"min_importance": 0.5}),
            SESSIONS,
            "POST",
            "/v1/sessions/{session_id}/commit",
        )
        memory = _check(
            api.post("/memories", json={"content": "shape check", "type": "procedural"}),
            MEMORIES,
            "POST",
            "/v1/memories",
        )["memory"]
        mid = memory["id"]
        _check(api.get("/memories"), MEMORIES, "GET", "/v1/memories")
        _check(api.get(f"/memories/{mid}"), MEMORIES, "GET", "/v1/memories/{memory_id}")
        _check(
            api.put(f"/memories/{mid}", json={"importance": 0.9}),
            MEMORIES,
            "PUT",
            "/v1/memories/{memory_id}",
        )
        recalled = api.post("/memories/recall", json={"query": "shape"}).json()
        # The digest cuts RecallResult short; its required fields, from the line's start:
        assert {"memories", "total_count", "mode_used"} <= set(recalled)
        assert (
            missing_fields(
                success_model(MEMORIES, "GET", "/v1/memories/{memory_id}")[1]["MemoryResponse"][
                    "memory*"
                ],
                recalled["memories"][0],
            )
            == []
        )
        assert api.delete(f"/memories/{mid}").status_code == 204
        assert api.delete(f"/sessions/{sid}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "named"),
    [
        ("POST", "/sessions", {"ttl_seconds": 59}, 400, "ttl_seconds"),
        ("POST", "/sessions", {"ttl_seconds": "1h"}, 400, "ttl_seconds"),
        ("POST", "/sessions", {"session_id": "a/b"}, 400, "a/b"),
        ("POST", "/memories", {"content": " "}, 400, "content"),
        ("POST", "/memories", {"content": "x", "type": "decision"}, 400, "'decision'"),
        ("POST", "/memories", {"content": "x", "importance": 2}, 400, "importance"),
        ("POST", "/memories/recall", {"query": "x", "types": ["nope"]}, 400, "'nope'"),
        ("GET", "/sessions/briefing?lookback_minutes=0", None, 400, "lookback_minutes"),
        ("GET", "/sessions/sess_nope", None, 404, "sess_nope"),
        ("POST", "/sessions/sess_nope/touch", None, 404, "sess_nope"),
        ("GET", "/memories/mem_nope", None, 404, "mem_nope"),
        ("DELETE", "/memories/mem_nope", None, 404, "mem_nope"),
        ("GET", "/no/such/route", None, 404, "not found"),
        ("GET", "/workspaces", None, 404, "not found"),
    ],
)
def test_errors_are_memorylayers_shape_naming_the_value(
    server: LiveServer, method: str, path: str, body: Any, status: int, named: str
) -> None:
    with _api(server) as api:
        answer = api.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert set(error) == {"error", "message", "details", "detail"}
    assert named in error["message"]
    assert error["detail"] == error["message"]
    if status == 400 and "field" in (error["details"] or {}):
        assert error["details"]["field"] in error["message"]


def test_keys_are_checked_and_refused_in_memorylayers_shape(server: LiveServer) -> None:
    missing = httpx.get(server.url + "/v1/memories", timeout=10)
    wrong = httpx.get(server.url + "/v1/memories", headers={"Authorization": "Bearer mtk_x"})
    for answer, message in ((missing, "missing API key"), (wrong, "invalid API key")):
        assert answer.status_code == 401
        assert answer.json() == {
            "error": "authentication_failed",
            "message": message,
            "details": None,
            "detail": message,
        }
    # Memtrace v1 keeps its own shape.
    assert httpx.get(server.url + "/api/v1/memories").json() == {"error": "missing API key"}


def test_touch_extends_and_never_shortens(start_server: Any, tmp_path: Path) -> None:
    clock = FileClock(str(tmp_path / "clock.txt"))
    from tests.server.conftest import CLOCK_START

    clock.set(CLOCK_START)
    live = start_server(clock_file=clock.path)
    with _api(live, "ml-touch") as api:
        sid = api.post("/sessions", json={"ttl_seconds": 7200}).json()["session"]["id"]
        ends = CLOCK_START + timedelta(hours=2)
        # now + 60 s is sooner than the expiry: nothing changes (the real server would
        # cut the session to one minute).
        short = api.post(f"/sessions/{sid}/touch", params={"extend_seconds": 60}).json()
        assert (short["extended"], short["expires_at"]) == (False, "2026-03-14T17:09:26Z")
        clock.set(CLOCK_START + timedelta(minutes=90))
        default = api.post(f"/sessions/{sid}/touch").json()  # now + 1 h > the expiry
        assert (default["extended"], default["expires_at"]) == (True, "2026-03-14T17:39:26Z")
        longer = api.post(f"/sessions/{sid}/touch", params={"extend_seconds": 4 * 3600}).json()
        assert longer["expires_at"] == "2026-03-14T20:39:26Z"
        assert ends < CLOCK_START + timedelta(hours=6)
        listed = api.get("/sessions", params={"include_expired": "true"}).json()["sessions"]
        assert [s["expires_at"] for s in listed] == ["2026-03-14T20:39:26Z"]


def test_working_memory_is_memtuis_and_in_the_change_feed(server: LiveServer) -> None:
    with server.client(timeout=10) as memtrace:
        cursor = memtrace.get("/changes").json()["latest_id"]
    with _api(server, "ml-wm") as api:
        sid = api.post("/sessions", json={}).json()["session"]["id"]
        first = api.post(f"/sessions/{sid}/memory", json={"key": "plan", "value": "a"}).json()
        second = api.post(f"/sessions/{sid}/memory", json={"key": "plan", "value": None}).json()
        assert (first["version"], second["version"], second["value"]) == (1, 2, None)
        assert api.get(f"/sessions/{sid}/memory", params={"key": "plan"}).json() == {"plan": None}
        missing = api.get(f"/sessions/{sid}/memory", params={"key": "nope"})
        assert (missing.status_code, missing.json()["message"]) == (
            404,
            "working memory key not found: 'nope'",
        )
    with server.client(timeout=10) as memtrace:
        session = memtrace.get(f"/sessions/{sid}").json()
        assert (session["agent_id"], session["workspace_id"]) == ("ml-wm", "ml-wm")
        item = memtrace.get(f"/sessions/{sid}/working-memory/plan").json()
        assert (item["value"], item["version"]) == (None, 2)
        changes = memtrace.get("/changes", params={"after": cursor}).json()["changes"]
    kinds = [c["kind"] for c in changes if c["session_id"] == sid]
    assert kinds == ["session.created", "working_memory.changed", "working_memory.changed"]


def test_memtui_types_are_reported_as_memorylayers_four(server: LiveServer) -> None:
    with server.client(timeout=10) as memtrace:
        memtrace.post(
            "/memories",
            json={
                "agent_id": "ml-types",
                "content": "Use rotating refresh tokens",
                "memory_type": "decision",
            },
        )
    with _api(server, "ml-types") as api:
        api.post("/memories", json={"content": "how to rotate tokens", "type": "procedural"})
        semantic = api.get("/memories", params={"type": "semantic"}).json()
        assert [(m["type"], m["subtype"], m["memory_type"]) for m in semantic["memories"]] == [
            ("semantic", "decision", "decision")
        ]
        assert semantic["total_count"] == 1
        every = api.get("/memories").json()
        assert every["total_count"] == 2


def test_recall_ranks_by_text_relevance(server: LiveServer) -> None:
    with _api(server, "ml-recall") as api:
        for content in (
            "the deploy pipeline runs nightly",
            "auth tokens: auth tokens rotate hourly",
            "tokens for the auth service",
            "lunch is at noon",
        ):
            api.post("/memories", json={"content": content})
        found = api.post("/memories/recall", json={"query": "auth tokens", "limit": 2}).json()
        assert [m["content"] for m in found["memories"]] == [
            "auth tokens: auth tokens rotate hourly",
            "tokens for the auth service",
        ]
        assert found["total_count"] == 2
        assert found["memories"][0]["relevance_score"] == 1.0
        other = api.post("/memories/recall", json={"query": "auth", "workspace_id": "elsewhere"})
        assert other.json()["memories"] == []


def test_hostile_text_comes_back_exactly(server: LiveServer) -> None:
    texts = [*MARKUP_STRINGS[:5], *CONTROL_STRINGS[:5]]
    with _api(server, "ml-hostile") as api:
        sid = api.post("/sessions", json={"metadata": {"t": texts}}).json()["session"]["id"]
        for index, text in enumerate(texts):
            api.post(f"/sessions/{sid}/memory", json={"key": text, "value": text})
            stored = api.post("/memories", json={"content": text, "tags": [f"t{index}"]}).json()
            assert stored["memory"]["content"] == text
        assert api.get(f"/sessions/{sid}/memory").json() == {t: t for t in texts}
        assert api.get(f"/sessions/{sid}").json()["metadata"] == {"t": texts}


def test_a_bad_working_memory_key_leaves_no_session_behind(server: LiveServer) -> None:
    with _api(server, "ml-bad-wm") as api:
        answer = api.post("/sessions", json={"working_memory": {"ok": 1, "": 2}})
        assert answer.status_code == 400
        error = answer.json()
        assert error["details"]["field"] == "working_memory"
        assert "working_memory key" in error["message"]
        assert api.get("/sessions").json() == {"sessions": [], "total_count": 0}
