"""Memtrace v1, route by route, over raw HTTP against a live `memtui serve`.

Shapes are checked against the official Memtrace client's own pydantic models
(memtrace-sdk), which validate strictly: if they accept a response, so do Memtrace's
clients.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from memtrace import models as sdk

from tests.server.conftest import assert_rfc3339


def new_session(api: httpx.Client, agent: str = "agent_routes", **extra: Any) -> dict[str, Any]:
    response = api.post("/sessions", json={"agent_id": agent, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_health_needs_no_key_and_names_the_features(server: Any) -> None:
    for path in ("/health", "/api/v1/health"):
        body = httpx.get(server.url + path).json()
        assert body["status"] == "ok"
        assert body["service"] == "memtui"
        assert isinstance(body["version"], str)
        assert body["features"] == sorted(body["features"])
        assert {"expiry", "working_memory", "events", "memory_ids"} <= set(body["features"])


def test_post_one_memory_returns_201_with_every_memtrace_field(api: httpx.Client) -> None:
    session = new_session(api)
    response = api.post(
        "/memories",
        json={
            "agent_id": "agent_routes",
            "session_id": session["id"],
            "memory_type": "decision",
            "event_type": "decision",
            "content": "Use PostgreSQL for the shared store",
            "metadata": {"reasoning": "many writers"},
            "tags": ["db", "infra"],
            "importance": 0.9,
        },
    )
    assert response.status_code == 201
    body = response.json()
    memory = sdk.Memory.model_validate(body)
    assert memory.org_id == "org_default"
    assert memory.content == "Use PostgreSQL for the shared store"
    assert memory.tags == ["db", "infra"]
    assert memory.importance == 0.9
    assert body["id"].startswith("mem_")
    assert_rfc3339(body["time"])


def test_defaults_are_memtraces_episodic_and_general(api: httpx.Client) -> None:
    body = api.post("/memories", json={"agent_id": "agent_routes", "content": "plain"}).json()
    assert (body["memory_type"], body["event_type"]) == ("episodic", "general")
    body = api.post(
        "/memories",
        json={"agent_id": "agent_routes", "content": "empty", "memory_type": "", "event_type": ""},
    ).json()
    assert (body["memory_type"], body["event_type"]) == ("episodic", "general")


def test_batch_returns_201_memories_and_count(api: httpx.Client) -> None:
    session = new_session(api)
    payload = {
        "memories": [
            {"agent_id": "agent_routes", "session_id": session["id"], "content": f"step {i}"}
            for i in range(5)
        ]
    }
    response = api.post("/memories", json=payload)
    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 5
    assert [m["content"] for m in body["memories"]] == [f"step {i}" for i in range(5)]
    for item in body["memories"]:
        sdk.Memory.model_validate(item)


def test_a_batch_is_all_or_nothing(api: httpx.Client) -> None:
    session = new_session(api)
    payload = {
        "memories": [
            {"agent_id": "agent_routes", "session_id": session["id"], "content": "fine"},
            {"agent_id": "agent_routes", "session_id": session["id"], "content": ""},
        ]
    }
    response = api.post("/memories", json=payload)
    assert response.status_code == 400
    assert "memories.1.content" in response.json()["error"]
    listed = api.get("/memories", params={"session_id": session["id"]}).json()
    assert listed["count"] == 0


def test_memtui_stores_types_beyond_memtraces_four(api: httpx.Client) -> None:
    body = api.post(
        "/memories", json={"agent_id": "agent_routes", "content": "x", "memory_type": "procedural"}
    )
    assert body.status_code == 201
    assert body.json()["memory_type"] == "procedural"
    bad = api.post(
        "/memories", json={"agent_id": "agent_routes", "content": "x", "memory_type": "no spaces"}
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "memory_type"


def test_list_memories_filters_pages_and_always_says_has_more(api: httpx.Client) -> None:
    session = new_session(api)
    sid = session["id"]
    api.post(
        "/memories",
        json={
            "memories": [
                {
                    "agent_id": "agent_routes",
                    "session_id": sid,
                    "content": f"m{i}",
                    "memory_type": "decision" if i % 2 else "episodic",
                    "tags": ["even"] if i % 2 == 0 else ["odd"],
                }
                for i in range(7)
            ]
        },
    )
    page = api.get("/memories", params={"session_id": sid, "limit": 3})
    assert page.status_code == 200
    first = sdk.MemoryList.model_validate(page.json())
    assert first.count == 3 and first.has_more is True
    rest = api.get(
        "/memories", params={"session_id": sid, "limit": 10, "after": page.json()["next_cursor"]}
    ).json()
    assert rest["count"] == 4 and rest["has_more"] is False
    seen = [m["content"] for m in page.json()["memories"] + rest["memories"]]
    assert sorted(seen) == sorted(f"m{i}" for i in range(7))

    decisions = api.get("/memories", params={"session_id": sid, "memory_type": "decision"}).json()
    assert {m["memory_type"] for m in decisions["memories"]} == {"decision"}
    assert decisions["count"] == 3 and decisions["has_more"] is False
    evens = api.get("/memories", params={"session_id": sid, "tags": "even"}).json()
    assert evens["count"] == 4
    offset = api.get("/memories", params={"session_id": sid, "limit": 2, "offset": 6}).json()
    assert offset["count"] == 1
    ascending = api.get("/memories", params={"session_id": sid, "order": "asc"}).json()
    times = [m["time"] for m in ascending["memories"]]
    assert times == sorted(times)


def test_get_memory_by_id_and_404(api: httpx.Client) -> None:
    created = api.post("/memories", json={"agent_id": "agent_routes", "content": "find me"}).json()
    got = api.get(f"/memories/{created['id']}")
    assert got.status_code == 200 and got.json() == created
    missing = api.get("/memories/mem_does_not_exist")
    assert missing.status_code == 404
    assert set(missing.json()) >= {"error"} and "detail" not in missing.json()


def test_search_matches_memtraces_result_shape(api: httpx.Client) -> None:
    session = new_session(api)
    api.post(
        "/memories",
        json={
            "memories": [
                {
                    "agent_id": "agent_search",
                    "session_id": session["id"],
                    "content": "The deploy failed: disk full",
                    "event_type": "error",
                    "importance": 0.8,
                },
                {
                    "agent_id": "agent_search",
                    "session_id": session["id"],
                    "content": "Deploy succeeded",
                    "importance": 0.2,
                },
            ]
        },
    )
    response = api.post(
        "/search",
        json={"agent_id": "agent_search", "content_contains": "DEPLOY", "min_importance": 0.5},
    )
    assert response.status_code == 200
    result = sdk.SearchResult.model_validate(response.json())
    assert [m.content for m in result.results] == ["The deploy failed: disk full"]
    assert result.count == 1 and result.query_time_ms >= 0
    by_event = api.post("/search", json={"agent_id": "agent_search", "event_types": ["error"]})
    assert by_event.json()["count"] == 1


def test_agents_register_list_get_stats_delete(api: httpx.Client) -> None:
    created = api.post(
        "/agents", json={"name": "researcher", "description": "reads", "config": {"model": "x"}}
    )
    assert created.status_code == 201
    agent = sdk.Agent.model_validate(created.json())
    assert agent.name == "researcher" and agent.org_id == "org_default"
    duplicate = api.post("/agents", json={"name": "researcher"})
    assert duplicate.status_code == 409 and "error" in duplicate.json()

    listed = sdk.AgentList.model_validate(api.get("/agents").json())
    assert "researcher" in {a.name for a in listed.agents}
    assert api.get("/agents").json()["has_more"] is False
    by_name = api.get("/agents/researcher").json()
    assert by_name["id"] == agent.id
    assert api.get(f"/agents/{agent.id}").json()["name"] == "researcher"

    api.post("/sessions", json={"agent_id": agent.id})
    api.post(
        "/memories",
        json={"agent_id": agent.id, "content": "boom", "event_type": "error"},
    )
    stats = sdk.AgentStats.model_validate(api.get(f"/agents/{agent.id}/stats").json())
    assert stats.memory_count == 1 and stats.errors_24h == 1
    assert stats.session_count == 1 and stats.active_sessions == 1
    assert stats.memory_types == {"episodic": 1}
    recent = sdk.MemoryList.model_validate(api.get(f"/agents/{agent.id}/memories").json())
    assert [m.content for m in recent.memories] == ["boom"]

    assert api.delete(f"/agents/{agent.id}").status_code == 204
    assert api.get(f"/agents/{agent.id}").status_code == 404
    assert api.delete(f"/agents/{agent.id}").status_code == 404


def test_a_session_or_memory_for_an_unknown_agent_registers_it(api: httpx.Client) -> None:
    new_session(api, agent="agent_auto_registered")
    assert api.get("/agents/agent_auto_registered").status_code == 200


def test_sessions_lifecycle_in_memtrace_shape(api: httpx.Client) -> None:
    body = new_session(api, agent="agent_life", metadata={"task": "product_research"})
    session = sdk.Session.model_validate(body)
    assert session.id.startswith("sess_") and body["session_id"] == session.id
    assert session.status == "active" and session.org_id == "org_default"
    assert body["metadata"] == {"task": "product_research"}
    created = assert_rfc3339(body["created_at"])
    expires = assert_rfc3339(body["expires_at"])
    assert round((expires - created).total_seconds()) == 6 * 3600
    assert body["workspace_id"] is None

    got = api.get(f"/sessions/{session.id}")
    assert got.status_code == 200 and got.json()["id"] == session.id
    assert api.get("/sessions/sess_nope").status_code == 404

    closed = api.put(f"/sessions/{session.id}", json={"status": "closed"})
    assert closed.status_code == 200
    closed_session = sdk.Session.model_validate(closed.json())
    assert closed_session.status == "closed" and closed_session.closed_at is not None
    meta = api.put(f"/sessions/{session.id}", json={"metadata": {"task": "done"}}).json()
    assert meta["metadata"] == {"task": "done"} and meta["status"] == "closed"
    bad = api.put(f"/sessions/{session.id}", json={"status": "sleeping"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert api.put("/sessions/sess_nope", json={"status": "closed"}).status_code == 404


def test_list_sessions_newest_first_with_count_and_has_more(api: httpx.Client) -> None:
    ids = [new_session(api, agent="agent_listing")["id"] for _ in range(3)]
    body = api.get("/sessions", params={"agent_id": "agent_listing"}).json()
    listed = sdk.SessionList.model_validate(body)
    assert [s.id for s in listed.sessions] == list(reversed(ids))
    assert body["count"] == 3 and body["has_more"] is False
    limited = api.get("/sessions", params={"agent_id": "agent_listing", "limit": 2}).json()
    assert limited["count"] == 2 and limited["has_more"] is True
    api.put(f"/sessions/{ids[0]}", json={"status": "closed"})
    closed = api.get("/sessions", params={"agent_id": "agent_listing", "status": "closed"}).json()
    assert [s["id"] for s in closed["sessions"]] == [ids[0]]


def test_session_memories_route(api: httpx.Client) -> None:
    sid = new_session(api)["id"]
    api.post("/memories", json={"agent_id": "agent_routes", "session_id": sid, "content": "a"})
    api.post(
        "/memories",
        json={
            "agent_id": "agent_routes",
            "session_id": sid,
            "content": "b",
            "memory_type": "entity",
        },
    )
    body = sdk.MemoryList.model_validate(api.get(f"/sessions/{sid}/memories").json())
    assert [m.content for m in body.memories] == ["b", "a"]
    only = api.get(f"/sessions/{sid}/memories", params={"memory_type": "entity"}).json()
    assert [m["content"] for m in only["memories"]] == ["b"]


def test_context_is_seed_000_markdown_with_exact_budget(api: httpx.Client) -> None:
    sid = new_session(api)["id"]
    api.post(
        "/memories",
        json={
            "memories": [
                {"agent_id": "agent_routes", "session_id": sid, "content": f"crawled page {i}"}
                for i in range(40)
            ]
            + [
                {
                    "agent_id": "agent_routes",
                    "session_id": sid,
                    "content": "Focus on category A",
                    "memory_type": "decision",
                    "importance": 1.0,
                }
            ]
        },
    )
    full = api.post(f"/sessions/{sid}/context", json={"since": "4h"})
    assert full.status_code == 200
    body = full.json()
    context = sdk.SessionContext.model_validate(body)
    assert context.context.startswith(f"## Session Context ({sid})\n")
    assert "### Recent Actions (40)" in context.context
    assert "### Decisions (1)" in context.context
    assert context.memory_count == 41
    assert body["truncated"] is False and body["omitted_count"] == 0
    assert body["encoding"] == "cl100k_base" and body["max_tokens"] is None

    budget = api.post(
        f"/sessions/{sid}/context", json={"max_tokens": 60, "encoding": "o200k_base"}
    ).json()
    assert budget["token_count"] <= 60 and budget["truncated"] is True
    assert budget["omitted_count"] == 41 - budget["memory_count"]
    assert "Focus on category A" in budget["context"]  # the most important survives
    assert budget["encoding"] == "o200k_base"

    decisions = api.post(f"/sessions/{sid}/context", json={"include_types": ["decision"]}).json()
    assert decisions["memory_count"] == 1


def test_context_errors_name_what_is_wrong(api: httpx.Client) -> None:
    sid = new_session(api)["id"]
    bad_since = api.post(f"/sessions/{sid}/context", json={"since": "last tuesday"})
    assert bad_since.status_code == 400
    assert "last tuesday" in bad_since.json()["error"]
    unknown = api.post("/sessions/sess_unknown/context", json={})
    assert unknown.status_code == 404
    no_body = api.post(f"/sessions/{sid}/context")
    assert no_body.status_code == 200


def test_bad_time_windows_are_400s_naming_the_value(api: httpx.Client) -> None:
    response = api.get("/memories", params={"since": "yesterday"})
    assert response.status_code == 400
    assert response.json()["field"] == "since" and "yesterday" in response.json()["error"]
    iso = api.get("/memories", params={"since": "2020-01-01T00:00:00Z", "until": "1h"})
    assert iso.status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"order": "sideways"}, "order"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_query_parameters_are_400s_naming_the_field(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = api.get("/memories", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field and field in body["error"] and "detail" not in body
