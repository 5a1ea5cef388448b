"""PostgreSQL as a first-class store, end to end: the real `memtui` CLI and a real
`memtui serve` on a throwaway PostgreSQL database (the contract suite covers every
protocol method on PostgreSQL; this proves the programs users run work there too)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.helpers.live_server import start_live_server
from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def demo_postgres_url() -> Iterator[str]:
    """A throwaway database filled once by `memtui demo`."""
    skip_or_fail_without_postgres()
    with throwaway_database("memtui_e2e") as url:
        first = memtui("demo", "--db", url)
        assert first.returncode == 0, first.stderr
        yield url


def memtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args], capture_output=True, text=True, timeout=120
    )


def test_demo_is_idempotent_and_sessions_list_on_postgres(demo_postgres_url: str) -> None:
    again = memtui("demo", "--db", demo_postgres_url)
    assert again.returncode == 0, again.stderr
    assert "nothing added" in again.stdout
    listed = memtui("sessions", "--db", demo_postgres_url, "--json")
    assert listed.returncode == 0, listed.stderr
    sessions = json.loads(listed.stdout)["sessions"]
    assert {s["status"] for s in sessions} == {"active", "expired", "closed"}


def test_context_on_postgres(demo_postgres_url: str) -> None:
    listed = json.loads(memtui("sessions", "--db", demo_postgres_url, "--json").stdout)
    session_id = next(s["id"] for s in listed["sessions"] if s["status"] == "active")
    result = memtui("context", session_id, "--db", demo_postgres_url, "--max-tokens", "300")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"## Session Context ({session_id})")
    assert "tokens" in result.stderr


def test_server_on_postgres_serves_routes_and_events(demo_postgres_url: str) -> None:
    with start_live_server(demo_postgres_url) as server, server.client(timeout=20) as client:
        health = client.get(f"{server.url}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        sessions = client.get(f"{server.api_url}/sessions").json()["sessions"]
        session_id = next(s["id"] for s in sessions if s["status"] == "active")
        cursor = client.get(f"{server.api_url}/changes", params={"limit": 1}).json()["latest_id"]
        put = client.put(
            f"{server.api_url}/sessions/{session_id}/working-memory/e2e",
            json={"value": {"nested": [1, 2]}, "expected_version": 0},
        )
        assert put.status_code == 200, put.text
        stale = client.put(
            f"{server.api_url}/sessions/{session_id}/working-memory/e2e",
            json={"value": 3, "expected_version": 0},
        )
        assert stale.status_code == 409
        memories = client.get(
            f"{server.api_url}/memories", params={"session_id": session_id, "limit": 5}
        ).json()
        assert memories["count"] == 5
        changes = client.get(f"{server.api_url}/changes", params={"after": cursor}).json()
        assert [c["kind"] for c in changes["changes"]] == ["working_memory.changed"]
        with client.stream(
            "GET", f"{server.api_url}/events", headers={"Last-Event-ID": str(cursor)}
        ) as stream:
            event_lines = []
            for line in stream.iter_lines():
                event_lines.append(line)
                if line.startswith("data:"):
                    break
        assert f"id: {cursor + 1}" in event_lines
        assert "event: working_memory.changed" in event_lines
