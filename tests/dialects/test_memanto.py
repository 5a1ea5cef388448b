"""Memanto (seed 001) on `memtui serve`: /api/v2 with memtui's keys and signed session
tokens: activate (one active session per agent), deactivate, the current session,
extend (adds to what is left), remember (query or body) and batch-remember."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from memtui.domain.clock import FileClock
from tests.dialects.conftest import seed_example
from tests.dialects.digest import missing_fields, success_model
from tests.helpers.hostile import CONTROL_STRINGS, MARKUP_STRINGS
from tests.helpers.live_server import LiveServer
from tests.server.conftest import CLOCK_START

DIGEST = "memanto-api.txt"

# Runs the seed's workflow unchanged; each time.sleep(300) moves the server's clock
# 5 h 10 min on (so the next check finds under an hour left and extends), and the
# second one stops the loop.
HARNESS = """
import runpy, sys, time
from memtui.domain.clock import FileClock

clock, naps = FileClock(sys.argv[1]), []

def sleep(seconds):
    naps.append(seconds)
    if len(naps) > 1:
        raise SystemExit(0)
    clock.advance(hours=5, minutes=10)

time.sleep = sleep
runpy.run_path(sys.argv[2], run_name="__main__")
"""


def _api(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    if token:
        headers["X-Session-Token"] = token
    return httpx.Client(base_url=server.url + "/api/v2", headers=headers, timeout=10)


def _activate(server: LiveServer, agent: str) -> dict[str, Any]:
    with _api(server) as api:
        answer = api.post(f"/agents/{agent}/activate")
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def clocked(start_server: Any, tmp_path: Path) -> tuple[LiveServer, FileClock]:
    clock = FileClock(str(tmp_path / "clock.txt"))
    clock.set(CLOCK_START)
    return start_server(clock_file=clock.path), clock


def test_the_seeds_workflow_runs_unchanged(
    clocked: tuple[LiveServer, FileClock], tmp_path: Path
) -> None:
    live, clock = clocked
    script = tmp_path / "workflow.py"
    script.write_text(
        seed_example(
            "memanto_workflow.py.txt",
            {'"mk_key"': repr(live.api_key), "http://localhost:8000": live.url},
        )
    )
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS)
    done = subprocess.run(
        [sys.executable, str(harness), clock.path, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Session extended"]
    with live.client(timeout=10) as memtrace:
        [session] = memtrace.get("/sessions", params={"agent_id": "continuous-bot"}).json()[
            "sessions"
        ]
        memories = memtrace.get(f"/sessions/{session['id']}/memories").json()["memories"]
    assert [(m["content"], m["memory_type"]) for m in memories] == [("...", "fact")] * 2
    # Activated at 15:09:26, 6 h; 5 h 10 min later 50 min were left; + 6 h = 6 h 50 min.
    assert session["expires_at"] == "2026-03-15T03:09:26Z"
    assert session["metadata"] == {
        "memanto": {"namespace": "memanto_agent_continuous-bot", "session_token": "issued"}
    }


def test_activate_answers_memantos_fields_and_a_signed_token(server: LiveServer) -> None:
    status, model = success_model(DIGEST, "POST", "/api/v2/agents/{agent_id}/activate")
    with _api(server) as api:
        answer = api.post("/agents/mt-fields/activate")
    assert answer.status_code == status
    session = answer.json()
    assert missing_fields(model, session) == []
    assert session["status"] == "active"
    started = session["started_at"]
    assert session["expires_at"][:10] >= started[:10]
    header, payload, _sig = session["session_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert (claims["sub"], claims["agent_id"], claims["session_id"]) == (
        "mt-fields",
        "mt-fields",
        session["session_id"],
    )
    assert claims["exp"] - claims["iat"] == 6 * 3600


def test_one_active_session_per_agent(server: LiveServer) -> None:
    first = _activate(server, "mt-one")
    second = _activate(server, "mt-one")
    other = _activate(server, "mt-other")
    with server.client(timeout=10) as memtrace:
        assert memtrace.get(f"/sessions/{first['session_id']}").json()["status"] == "closed"
        assert memtrace.get(f"/sessions/{second['session_id']}").json()["status"] == "active"
        assert memtrace.get(f"/sessions/{other['session_id']}").json()["status"] == "active"
    with _api(server, first["session_token"]) as api:
        refused = api.get("/session/current")
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "the session token's session has ended; activate the agent again"
    }
    # A Memtrace session of the same agent is not Memanto's: activating leaves it be.
    with server.client(timeout=10) as memtrace:
        mine = memtrace.post("/sessions", json={"agent_id": "mt-one"}).json()
        _activate(server, "mt-one")
        assert memtrace.get(f"/sessions/{mine['id']}").json()["status"] == "active"


def test_remember_by_query_or_body_into_the_tokens_session(server: LiveServer) -> None:
    session = _activate(server, "mt-remember")
    remember_path = "/api/v2/agents/{agent_id}/remember"
    with _api(server, session["session_token"]) as api:
        by_query = api.post(
            "/agents/mt-remember/remember", params={"content": "likes tea", "type": "preference"}
        )
        assert by_query.status_code == 200, by_query.text
        assert (
            missing_fields(success_model(DIGEST, "POST", remember_path)[1], by_query.json()) == []
        )
        by_body = api.post(
            "/agents/mt-remember/remember",
            json={
                "content": "ship on Friday",
                "type": "decision",
                "title": "Release",
                "confidence": 0.9,
                "tags": ["release"],
            },
        )
        assert by_body.json()["type"] == "decision"
        batch = api.post(
            "/agents/mt-remember/batch-remember",
            json={"memories": [{"content": "a"}, {"content": "b", "type": "goal"}]},
        ).json()
        batch_path = "/api/v2/agents/{agent_id}/batch-remember"
        assert missing_fields(success_model(DIGEST, "POST", batch_path)[1], batch) == []
        assert (batch["total_submitted"], batch["successful"], batch["failed"]) == (2, 2, 0)
    with server.client(timeout=10) as memtrace:
        stored = memtrace.get(f"/sessions/{session['session_id']}/memories").json()["memories"]
    by_content = {m["content"]: m for m in stored}
    assert set(by_content) == {"likes tea", "ship on Friday", "a", "b"}
    decision = by_content["ship on Friday"]
    assert (decision["memory_type"], decision["importance"], decision["tags"]) == (
        "decision",
        0.9,
        ["release"],
    )
    assert decision["metadata"]["title"] == "Release"
    assert by_content["a"]["memory_type"] == "fact"  # Memanto's default type


def test_deactivate_summarises_the_session(server: LiveServer) -> None:
    session = _activate(server, "mt-deactivate")
    with _api(server, session["session_token"]) as api:
        api.post("/agents/mt-deactivate/remember", params={"content": "x"})
        summary = api.post("/agents/mt-deactivate/deactivate")
        assert summary.status_code == 200
        path = "/api/v2/agents/{agent_id}/deactivate"
        assert missing_fields(success_model(DIGEST, "POST", path)[1], summary.json()) == []
        assert (summary.json()["session_id"], summary.json()["memories_created"]) == (
            session["session_id"],
            1,
        )
        again = api.post("/agents/mt-deactivate/deactivate")
        assert (again.status_code, again.json()) == (
            404,
            {"error": "agent 'mt-deactivate' has no active session"},
        )
        assert (
            api.post("/agents/mt-deactivate/remember", params={"content": "y"}).status_code == 401
        )


def test_current_and_extend_add_hours_to_what_is_left(
    clocked: tuple[LiveServer, FileClock],
) -> None:
    live, clock = clocked
    token = _activate(live, "mt-extend")["session_token"]
    with _api(live, token) as api:
        clock.advance(hours=5)
        current = api.get("/session/current").json()
        assert (current["time_remaining_minutes"], current["time_remaining_seconds"]) == (60, 3600)
        extended = api.post("/session/extend", params={"extend_hours": 6}).json()
        assert extended["time_remaining_minutes"] == 7 * 60  # 1 h left + 6 h
        extended = api.post("/session/extend", params={"extend_hours": 12}).json()
        assert extended["time_remaining_minutes"] == 19 * 60  # the seed's 7 h + 12 h
        clock.advance(hours=19, seconds=1)
        expired = api.get("/session/current")
        assert (expired.status_code, expired.json()) == (
            401,
            {"error": "the session token has expired; activate the agent again"},
        )
        # The cookie carries a token as well as the header does.
    token = _activate(live, "mt-extend")["session_token"]
    cookie = httpx.get(
        live.url + "/api/v2/session/current",
        headers={"X-Api-Key": live.api_key},
        cookies={"memanto_session_token": token},
    )
    assert cookie.json()["agent_id"] == "mt-extend"


def test_bad_foreign_and_tampered_tokens_are_401s(server: LiveServer) -> None:
    mine = _activate(server, "mt-tokens")["session_token"]
    theirs = _activate(server, "mt-tokens-other")["session_token"]
    header, payload, signature = mine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["agent_id"] = claims["sub"] = "mt-tokens-other"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    unsigned = "invalid session token: not one this server signed"
    cases = {
        "": "a session token is required (X-Session-Token); activate the agent",
        "not-a-jwt": unsigned,
        f"{header}.{forged_payload}.{signature}": unsigned,
        jwt.encode(
            claims, b"k" * 32, algorithm="HS256"
        ): "invalid session token: not one this server signed",
        theirs: "the session token belongs to another agent, not 'mt-tokens'",
    }
    for token, message in cases.items():
        headers = {"Authorization": f"Bearer {server.api_key}", "X-Session-Token": token}
        answer = httpx.post(
            server.url + "/api/v2/agents/mt-tokens/remember",
            params={"content": "x"},
            headers=headers,
            timeout=10,
        )
        assert (answer.status_code, answer.json()) == (401, {"error": message}), token[:20]
        assert token not in answer.text or not token


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        (
            "POST",
            "/agents/mt-bad/remember",
            {"params": {"type": "fact"}},
            400,
            "content is required",
        ),
        (
            "POST",
            "/agents/mt-bad/remember",
            {"params": {"content": "x", "type": "note"}},
            400,
            "'note'",
        ),
        (
            "POST",
            "/agents/mt-bad/remember",
            {"json": {"content": "x", "confidence": 3}},
            400,
            "confidence",
        ),
        ("POST", "/agents/mt-bad/batch-remember", {"json": {"memories": []}}, 400, "memories"),
        ("POST", "/session/extend", {"params": {"extend_hours": 0}}, 400, "extend_hours"),
        ("POST", "/session/extend", {"params": {"extend_hours": "six"}}, 400, "'six'"),
        ("GET", "/agents", {}, 404, "not found"),
        ("GET", "/status", {}, 404, "not found"),
        ("POST", "/agents/mt-bad/recall", {"json": {"query": "x"}}, 404, "not found"),
    ],
)
def test_bad_input_names_the_value(
    server: LiveServer, method: str, path: str, kwargs: dict[str, Any], status: int, message: str
) -> None:
    token = _activate(server, "mt-bad")["session_token"]
    with _api(server, token) as api:
        answer = api.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]


def test_keys_are_memtuis(server: LiveServer) -> None:
    refused = httpx.post(server.url + "/api/v2/agents/mt-keys/activate", timeout=10)
    assert (refused.status_code, refused.json()) == (401, {"error": "missing API key"})
    wrong = httpx.post(
        server.url + "/api/v2/agents/mt-keys/activate",
        headers={"Authorization": "Bearer mk_key"},
        timeout=10,
    )
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid API key"})
    by_header = httpx.post(
        server.url + "/api/v2/agents/mt-keys/activate",
        headers={"X-Api-Key": server.api_key},
        timeout=10,
    )
    assert by_header.status_code == 200


def test_tokens_are_never_logged_nor_in_the_change_feed(server: LiveServer) -> None:
    with server.client(timeout=10) as memtrace:
        cursor = memtrace.get("/changes").json()["latest_id"]
    texts = [*MARKUP_STRINGS[:4], *CONTROL_STRINGS[:4]]
    session = _activate(server, "mt-secret")
    token = session["session_token"]
    with _api(server, token) as api:
        api.post("/agents/mt-secret/remember", json={"content": texts[0], "title": texts[1]})
        api.post(
            "/agents/mt-secret/batch-remember", json={"memories": [{"content": t} for t in texts]}
        )
        api.get("/session/current")
        api.post("/session/extend", params={"extend_hours": 1})
        api.post("/agents/other/remember", params={"content": "x"})  # a 401
        api.post("/agents/mt-secret/deactivate")
    with server.client(timeout=10) as memtrace:
        changes = memtrace.get("/changes", params={"after": cursor, "limit": 1000}).text
        stored = memtrace.get(f"/sessions/{session['session_id']}/memories").json()["memories"]
    assert {m["content"] for m in stored} == set(texts)
    for secret in (token, token.split(".")[2]):
        assert secret not in changes
        assert secret not in server.output()
