"""Issue 8, items 7 and 11: SQLite and PostgreSQL agree on text they cannot hold, and
a store that fails gives JSON 503s that never name its infrastructure.

- A NUL byte (or a lone surrogate) in a text field is a 400 naming the field on both
  backends (PostgreSQL used to answer 503 naming the database user, host and database;
  SQLite stored it). Inside a JSON value (metadata) both store it exactly.
- A NUL in the URL path or a query parameter is a 400 naming it, on both.
- A PostgreSQL outage, made real by forbidding and cutting the throwaway database's
  connections: every request, key verification included, gets a JSON 503 with
  Retry-After and no infrastructure in the body; the server recovers afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.helpers.live_server import LiveServer
from tests.helpers.postgres import ADMIN_URL, libpq_dsn


@pytest.fixture(params=["sqlite", "postgres"])
def backend_server(
    request: pytest.FixtureRequest, start_server: Callable[..., LiveServer], sqlite_url: str
) -> Iterator[LiveServer]:
    postgres = request.param == "postgres"
    yield start_server(request.getfixturevalue("postgres_url") if postgres else sqlite_url)


def _infrastructure(url: str) -> list[str]:
    parts = urlsplit(url.replace("+psycopg", ""))
    names = [parts.hostname or "", str(parts.port or ""), parts.path.lstrip("/")]
    if parts.username:
        names.append(parts.username)
    return [n for n in names if n]


def _assert_400_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.text


def test_nul_and_lone_surrogates_in_text_are_refused_alike(backend_server: LiveServer) -> None:
    with backend_server.client(timeout=10.0) as api:
        session = api.post("/sessions", json={"agent_id": "nul"}).json()["id"]
        memory = api.post("/memories", json={"agent_id": "nul", "content": "ok"}).json()["id"]
        before = api.get("/changes", params={"limit": 1}).json()["latest_id"]

        _assert_400_naming(
            api.post("/memories", json={"agent_id": "nul", "content": "a\x00b"}), "content"
        )
        _assert_400_naming(
            api.post("/memories", json={"agent_id": "n\x00l", "content": "x"}), "agent_id"
        )
        _assert_400_naming(
            api.post("/memories", json={"agent_id": "nul", "content": "x", "tags": ["t\x00"]}),
            "tag",
        )
        _assert_400_naming(
            api.post("/sessions", json={"agent_id": "nul", "session_id": "s\x00"}), "session_id"
        )
        _assert_400_naming(api.post("/agents", json={"name": "a\x00"}), "name")
        _assert_400_naming(
            api.post("/agents", json={"name": "ok-agent", "description": "d\x00"}), "description"
        )
        _assert_400_naming(api.patch(f"/memories/{memory}", json={"content": "\x00"}), "content")
        _assert_400_naming(
            api.post(f"/sessions/{session}/snapshots", json={"open_tasks": ["a\x00"]}), "open_tasks"
        )
        _assert_400_naming(
            api.post(f"/sessions/{session}/snapshots", json={"project_path": "/p\x00"}),
            "project_path",
        )
        _assert_400_naming(
            api.post("/search", json={"content_contains": "a\x00"}), "content_contains"
        )
        surrogate = '{"agent_id":"nul","content":"lone \\ud800 half"}'
        response = api.post(
            "/memories", content=surrogate, headers={"content-type": "application/json"}
        )
        _assert_400_naming(response, "content")

        # The URL: path and query parameters.
        _assert_400_naming(api.get("/sessions/a%00b"), "path")
        _assert_400_naming(api.get("/memories", params={"agent_id": "a\x00"}), "agent_id")
        _assert_400_naming(
            api.get("/memories", params={"content_contains": "\x00"}), "content_contains"
        )
        # Nothing was written by any of them.
        assert api.get("/changes", params={"limit": 1}).json()["latest_id"] == before

        # Inside JSON values, NUL and lone surrogates are data, kept exactly on both.
        exact = api.post(
            "/memories",
            content=json.dumps(
                {"agent_id": "nul", "content": "x", "metadata": {"k\x00": "v\x00", "s": "\ud800"}}
            ),
            headers={"content-type": "application/json"},
        )
        assert exact.status_code == 201, exact.text
        stored = api.get(f"/memories/{exact.json()['id']}").json()
        assert stored["metadata"] == {"k\x00": "v\x00", "s": "\ud800"}
        put = api.put(f"/sessions/{session}/working-memory/k", json={"value": ["\x00"]})
        assert put.status_code == 200 and put.json()["value"] == ["\x00"]
        assert api.get("/changes", params={"after": 0}).status_code == 200
    assert "Traceback" not in backend_server.output()


def test_extend_past_year_9999_and_huge_ids_are_400s(backend_server: LiveServer) -> None:
    with backend_server.client(timeout=10.0) as api:
        session = api.post("/sessions", json={"agent_id": "far"}).json()["id"]
        years_10 = 10 * 365 * 24
        last = None
        for _ in range(900):  # 10 years at a time, until the year 9999 is passed
            last = api.post(f"/sessions/{session}/extend", json={"hours": years_10})
            if last.status_code != 200:
                break
        assert last is not None
        _assert_400_naming(last, "hours")
        assert "9998" in last.json()["error"]
        _assert_400_naming(
            api.post(f"/sessions/{session}/extend", json={"seconds": 10 * 365 * 86400}), "seconds"
        )
        assert api.get(f"/sessions/{session}").status_code == 200
        # Change ids and versions past 64 bits.
        forty = "9" * 40
        response = api.get("/events", headers={"Last-Event-ID": forty})
        _assert_400_naming(response, "last_event_id")
        _assert_400_naming(
            api.get("/events", params={"last_event_id": str(2**63)}), "last_event_id"
        )
        _assert_400_naming(api.get("/changes", params={"after": forty}), "after")
        response = api.put(
            f"/sessions/{session}/working-memory/k", json={"value": 1, "expected_version": 2**63}
        )
        _assert_400_naming(response, "expected_version")
        response = api.delete(
            f"/sessions/{session}/working-memory/k", params={"expected_version": forty}
        )
        _assert_400_naming(response, "expected_version")
        # Ids with '/' are refused where a client chooses them.
        _assert_400_naming(
            api.post("/memories", json={"agent_id": "far", "content": "x", "id": "a/b"}), "id"
        )
        _assert_400_naming(
            api.post("/sessions", json={"agent_id": "far", "session_id": "s/1"}), "session_id"
        )
        _assert_400_naming(
            api.post("/memories", json={"agent_id": "far", "content": "x", "id": ".."}), "id"
        )
    assert "Traceback" not in backend_server.output()


def test_openapi_documents_409_for_extending_a_closed_session(
    api: httpx.Client, server: LiveServer
) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    responses = schema["paths"]["/api/v1/sessions/{session_id}/extend"]["post"]["responses"]
    assert "409" in responses
    session = api.post("/sessions", json={"agent_id": "closed"}).json()["id"]
    api.put(f"/sessions/{session}", json={"status": "closed"})
    assert api.post(f"/sessions/{session}/extend", json={}).status_code == 409


# --- a real PostgreSQL outage ------------------------------------------------------------


def _admin(sql: str) -> None:
    with psycopg.connect(libpq_dsn(ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _cut_off(database: str) -> None:
    """No new connections to `database`, and every open one terminated."""
    _admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )


def _restore(database: str) -> None:
    _admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')


@pytest.mark.postgres
def test_a_postgresql_outage_gives_json_503s_naming_no_infrastructure(
    start_server: Callable[..., LiveServer], postgres_url: str
) -> None:
    live = start_server(postgres_url)
    database = postgres_url.rpartition("/")[2]
    hidden = _infrastructure(postgres_url)
    with live.client(timeout=30.0) as api:
        session = api.post("/sessions", json={"agent_id": "outage"}).json()["id"]
        assert api.get("/sessions").status_code == 200
        _cut_off(database)
        try:
            time.sleep(1.2)  # past the key verification cache: the key table is asked
            requests = [
                ("GET", "/sessions", None),
                ("GET", f"/sessions/{session}", None),
                ("POST", "/memories", {"agent_id": "outage", "content": "lost?"}),
                ("GET", "/changes", None),
                ("GET", "/briefing", None),
                ("PUT", f"/sessions/{session}/working-memory/k", {"value": 1}),
            ]
            for method, path, body in requests:
                response = api.request(method, path, json=body)
                assert response.status_code == 503, (path, response.status_code, response.text)
                assert response.headers["content-type"].startswith("application/json"), path
                assert response.headers.get("retry-after"), path
                text = response.json()["error"]
                for name in hidden:
                    assert name not in text, (path, name, text)
            # A key never seen before must be verified against the (unreachable) store.
            other = httpx.get(
                f"{live.api_url}/sessions", headers={"x-api-key": "mtk_" + "x" * 43}, timeout=30
            )
            assert other.status_code == 503 and other.json()["error"], other.text
        finally:
            _restore(database)
        deadline = time.monotonic() + 20
        while api.get("/sessions").status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)
        assert (
            api.post("/memories", json={"agent_id": "outage", "content": "back"}).status_code == 201
        )
    output = live.output()
    assert "Traceback" not in output
    assert '" 500' not in output
