"""AINative ZeroMemory (seed 003) on `memtui serve`: /api/v1/public/memory/v2/session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.dialects.conftest import seed_example
from tests.helpers.hostile import CONTROL_STRINGS, MARKUP_STRINGS
from tests.helpers.live_server import LiveServer

BASE = "/api/v1/public/memory/v2/session"
REAL_BASE = "https://api.ainative.studio/api/v1/public/memory/v2/session"


def _api(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url + BASE, headers=server.headers, timeout=10)


def test_the_seeds_python_example_runs_unchanged(server: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(
        seed_example(
            "zeromemory_sdk.py.txt",
            {'"your-api-key"': repr(server.api_key), REAL_BASE: server.url + BASE},
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Restoring session: my-session-001",
        "Open tasks: ['Add rate limiting to /api/v1/messages']",
    ]
    # The save made a memtui session with a snapshot, seen through Memtrace v1 too.
    with server.client(timeout=10) as api:
        session = api.get("/sessions/my-session-001").json()
        assert (session["agent_id"], session["expires_at"]) == ("zeromemory", None)
        snapshots = api.get("/sessions/my-session-001/snapshots").json()["snapshots"]
        assert snapshots[0]["event"] == "pre_compact"


def test_the_seeds_curl_examples_run_unchanged(server: LiveServer) -> None:
    script = seed_example(
        "zeromemory_curl.sh",
        {
            "https://api.ainative.studio": server.url,
            # the seed's placeholder for a path parameter, filled in
            "{session_id}": "session-abc123",
        },
    )
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "API_KEY": server.api_key},
    )
    assert done.returncode == 0, done.stderr
    decoder = json.JSONDecoder()
    answers, text = [], done.stdout
    while text.strip():
        value, end = decoder.raw_decode(text.strip())
        answers.append(value)
        text = text.strip()[end:]
    saved, latest, by_id = answers
    assert saved["session_id"] == latest["session_id"] == by_id["session_id"] == "session-abc123"
    assert by_id["session_data"] == {
        "project_path": "/Users/dev/myapp",
        "files_modified": ["app/main.py", "app/api/router.py"],
        "key_decisions": [
            "Switched to async endpoints for better throughput",
            "Added Redis caching layer",
        ],
        "open_tasks": ["Write tests for /api/v1/models/available"],
        "event": "pre_compact",
    }


def test_latest_and_by_session_read_the_newest_snapshot(server: LiveServer) -> None:
    with _api(server) as api:
        for n in range(3):
            answer = api.post("", json={"session_id": "zm-order", "open_tasks": [f"t{n}"]})
            assert answer.status_code == 201, answer.text
            assert answer.json()["session_data"]["event"] == "checkpoint"  # the default
        api.post("", json={"session_id": "zm-other", "event": "session_end"})
        assert api.get("/zm-order").json()["session_data"]["open_tasks"] == ["t2"]
        latest = api.get("/latest").json()
        assert (latest["session_id"], latest["session_data"]["event"]) == (
            "zm-other",
            "session_end",
        )


def test_a_save_may_name_the_agent_of_a_new_session(server: LiveServer) -> None:
    with _api(server) as api:
        api.post("", json={"session_id": "zm-agent", "agent_id": "claude-code"})
        assert api.get("/zm-agent").json()["agent_id"] == "claude-code"
        # An existing session keeps its agent.
        api.post("", json={"session_id": "zm-agent", "agent_id": "someone-else"})
        assert api.get("/zm-agent").json()["agent_id"] == "claude-code"


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({}, "session_id", "session_id is required"),
        ({"session_id": "  "}, "session_id", "session_id"),
        ({"session_id": "s", "event": "compact"}, "event", "'compact'"),
        ({"session_id": "s", "open_tasks": "one"}, "open_tasks", "open_tasks"),
        ({"session_id": "s", "files_modified": [1]}, "files_modified.0", "files_modified.0"),
        ({"session_id": "a/b"}, "session_id", "a/b"),
    ],
)
def test_bad_saves_are_400s_naming_the_value(
    server: LiveServer, body: dict[str, object], field: str, named: str
) -> None:
    with _api(server) as api:
        answer = api.post("", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert set(error) <= {"error", "field", "value"}
    assert named in error["error"]
    assert error.get("field") == field


def test_unknown_sessions_routes_and_keys(server: LiveServer) -> None:
    with _api(server) as api:
        missing = api.get("/no-such-session")
        assert missing.status_code == 404
        assert "no-such-session" in missing.json()["error"]
        assert api.get("/a/b/c").status_code == 404
        assert api.get("/a/b/c").json() == {"error": "not found"}
    assert httpx.get(server.url + BASE + "/latest").json() == {"error": "missing API key"}
    bad = httpx.get(server.url + BASE + "/latest", headers={"x-api-key": "mtk_wrong"})
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid API key"})


def test_a_fresh_store_has_no_latest_snapshot(start_server) -> None:  # type: ignore[no-untyped-def]
    live = start_server()
    answer = httpx.get(live.url + BASE + "/latest", headers=live.headers, timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {"error": "no session snapshot has been stored yet"}


def test_hostile_text_comes_back_exactly_and_is_in_the_change_feed(server: LiveServer) -> None:
    tasks = [*MARKUP_STRINGS[:6], *CONTROL_STRINGS[:6]]
    with server.client(timeout=10) as memtrace:
        cursor = memtrace.get("/changes").json()["latest_id"]
    with _api(server) as api:
        saved = api.post(
            "", json={"session_id": "zm-hostile", "open_tasks": tasks, "project_path": "[b]x"}
        )
        assert saved.status_code == 201, saved.text
        assert api.get("/zm-hostile").json()["session_data"]["open_tasks"] == tasks
    with server.client(timeout=10) as memtrace:
        changes = memtrace.get("/changes", params={"after": cursor}).json()["changes"]
    kinds = [(c["kind"], c["session_id"]) for c in changes]
    assert ("session.created", "zm-hostile") in kinds
    assert ("snapshot.created", "zm-hostile") in kinds
    snapshot = next(c for c in changes if c["kind"] == "snapshot.created")
    assert snapshot["data"]["open_tasks"] == tasks
