"""The three dialects over a PostgreSQL store (the same Backend as SQLite), including a
Memanto token accepted by a second server over the same store (the signing secret is
the store's)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.live_server import start_live_server
from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database


def test_each_dialect_on_postgresql_and_tokens_across_servers() -> None:
    skip_or_fail_without_postgres()
    with (
        throwaway_database("memtui_dialects") as url,
        start_live_server(url) as first,
        start_live_server(url) as second,
    ):

        def call(server: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
            headers = {"Authorization": f"Bearer {server.api_key}", **kwargs.pop("headers", {})}
            return httpx.request(method, server.url + path, headers=headers, timeout=10, **kwargs)

        token = call(first, "POST", "/api/v2/agents/pg-bot/activate").json()["session_token"]
        # The second server (another process, same store) accepts the first's token.
        stored = call(
            second,
            "POST",
            "/api/v2/agents/pg-bot/remember",
            params={"content": "on postgres"},
            headers={"X-Session-Token": token},
        )
        assert stored.status_code == 200, stored.text
        current = call(second, "GET", "/api/v2/session/current", headers={"X-Session-Token": token})
        assert current.json()["agent_id"] == "pg-bot"

        ml = call(first, "POST", "/v1/sessions", json={"workspace_id": "pg-ws"})
        sid = ml.json()["session"]["id"]
        call(first, "POST", f"/v1/sessions/{sid}/memory", json={"key": "k", "value": [1]})
        assert call(second, "GET", f"/v1/sessions/{sid}/memory").json() == {"k": [1]}
        recalled = call(second, "POST", "/v1/memories/recall", json={"query": "postgres"})
        assert [m["content"] for m in recalled.json()["memories"]] == ["on postgres"]

        saved = httpx.post(
            first.url + "/api/v1/public/memory/v2/session",
            json={"session_id": "pg-zero", "open_tasks": ["t"]},
            headers={"x-api-key": first.api_key},
            timeout=10,
        )
        assert saved.status_code == 201, saved.text
        latest = httpx.get(
            second.url + "/api/v1/public/memory/v2/session/latest",
            headers={"x-api-key": second.api_key},
            timeout=10,
        )
        assert latest.json()["session_data"]["open_tasks"] == ["t"]
