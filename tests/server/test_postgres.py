"""`memtui serve --db postgresql+psycopg://…`: the same server on PostgreSQL, with its
key table, change feed, event stream and expiry events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    skip_or_fail_without_postgres()
    with throwaway_database("memtui_server") as url:
        yield url


@pytest.mark.postgres
def test_serve_on_postgresql(postgres_url: str, start_server: Any, file_clock: Any) -> None:
    live = start_server(postgres_url, clock_file=file_clock.path)
    with live.client() as api:
        start = api.get("/changes", params={"limit": 1}).json()["latest_id"]
        session = api.post("/sessions", json={"agent_id": "pg_agent", "ttl_seconds": 30}).json()
        batch = api.post(
            "/memories",
            json={
                "memories": [
                    {"agent_id": "pg_agent", "session_id": session["id"], "content": f"m{i}"}
                    for i in range(20)
                ]
            },
        )
        assert batch.status_code == 201 and batch.json()["count"] == 20
        listed = api.get(f"/sessions/{session['id']}/memories", params={"limit": 5}).json()
        assert listed["count"] == 5 and listed["has_more"] is True
        stale = api.put(
            f"/sessions/{session['id']}/working-memory/k", json={"value": 1, "expected_version": 3}
        )
        assert stale.status_code == 409
        file_clock.advance(seconds=31)
        headers = {**live.headers, "Last-Event-ID": str(start)}
        kinds: list[str] = []
        with (
            httpx.Client(timeout=10) as client,
            client.stream("GET", f"{live.api_url}/events", headers=headers) as stream,
        ):
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    kinds.append(json.loads(line[6:])["kind"])
                    if kinds[-1] == "session.expired":
                        break
    assert kinds[:2] == ["agent.created", "session.created"]
    assert kinds.count("memory.created") == 20 and kinds[-1] == "session.expired"
