"""memtui's extensions over raw HTTP: expiry and extend, working memory, commit,
snapshots, briefing, memory edit/delete, counts, types and the change feed."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server.conftest import assert_rfc3339


def new_session(api: httpx.Client, agent: str = "agent_ext", **extra: Any) -> dict[str, Any]:
    response = api.post("/sessions", json={"agent_id": agent, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_ttl_workspace_and_client_chosen_ids(api: httpx.Client) -> None:
    short = new_session(api, ttl_seconds=600, workspace_id="ws-1")
    created = assert_rfc3339(short["created_at"])
    assert (assert_rfc3339(short["expires_at"]) - created).total_seconds() == 600
    assert short["workspace_id"] == "ws-1"
    forever = new_session(api, ttl_seconds=None)
    assert forever["expires_at"] is None
    chosen = new_session(api, session_id="sess_from_the_client")
    assert chosen["id"] == chosen["session_id"] == "sess_from_the_client"
    again = api.post(
        "/sessions", json={"agent_id": "agent_ext", "session_id": "sess_from_the_client"}
    )
    assert again.status_code == 409 and "error" in again.json()
    bad = api.post("/sessions", json={"agent_id": "agent_ext", "ttl_seconds": -5})
    assert bad.status_code == 400 and bad.json()["field"] == "ttl_seconds"


def test_extend_adds_to_the_current_expiry(api: httpx.Client) -> None:
    session = new_session(api, ttl_seconds=3600)
    before = assert_rfc3339(session["expires_at"])
    extended = api.post(f"/sessions/{session['id']}/extend", json={"hours": 6}).json()
    assert (assert_rfc3339(extended["expires_at"]) - before).total_seconds() == 6 * 3600
    again = api.post(f"/sessions/{session['id']}/extend", json={"seconds": 90}).json()
    assert (
        assert_rfc3339(again["expires_at"]) - assert_rfc3339(extended["expires_at"])
    ).total_seconds() == 90
    both = api.post(f"/sessions/{session['id']}/extend", json={"hours": 1, "seconds": 1})
    assert both.status_code == 400
    assert api.post("/sessions/sess_nope/extend", json={"hours": 1}).status_code == 404
    zero = api.post(f"/sessions/{session['id']}/extend", json={"hours": 0})
    assert zero.status_code == 400 and zero.json()["field"] == "hours"


def test_delete_session_keeps_its_memories(api: httpx.Client) -> None:
    sid = new_session(api)["id"]
    memory = api.post(
        "/memories", json={"agent_id": "agent_ext", "session_id": sid, "content": "outlives"}
    ).json()
    api.put(f"/sessions/{sid}/working-memory/k", json={"value": 1})
    assert api.delete(f"/sessions/{sid}").status_code == 204
    assert api.get(f"/sessions/{sid}").status_code == 404
    assert api.get(f"/memories/{memory['id']}").status_code == 200
    assert api.delete(f"/sessions/{sid}").status_code == 404


def test_working_memory_versions_conflicts_rename_delete(api: httpx.Client) -> None:
    sid = new_session(api)["id"]
    base = f"/sessions/{sid}/working-memory"
    first = api.put(f"{base}/plan", json={"value": {"steps": [1, 2]}, "importance": 0.8})
    assert first.status_code == 200
    item = first.json()
    assert (item["key"], item["version"], item["importance"]) == ("plan", 1, 0.8)
    assert_rfc3339(item["updated_at"])
    second = api.put(f"{base}/plan", json={"value": {"steps": [1]}, "expected_version": 1}).json()
    assert second["version"] == 2

    stale = api.put(f"{base}/plan", json={"value": "lost?", "expected_version": 1})
    assert stale.status_code == 409
    body = stale.json()
    assert body["expected_version"] == 1 and body["current"]["version"] == 2
    assert body["current"]["value"] == {"steps": [1]} and "error" in body
    exists = api.put(f"{base}/plan", json={"value": 0, "expected_version": 0})
    assert exists.status_code == 409

    api.put(f"{base}/nested/key with spaces", json={"value": None})
    got = api.get(f"{base}/nested/key with spaces")
    assert got.status_code == 200 and got.json()["value"] is None
    assert api.get(f"{base}/absent").status_code == 404
    missing_value = api.put(f"{base}/x", json={"importance": 0.1})
    assert missing_value.status_code == 400 and missing_value.json()["field"] == "value"

    listed = api.get(base).json()
    assert [i["key"] for i in listed["items"]] == ["nested/key with spaces", "plan"]
    assert listed["count"] == 2

    renamed = api.post(f"{base}/plan/rename", json={"new_key": "roadmap", "expected_version": 2})
    assert renamed.status_code == 200 and renamed.json()["key"] == "roadmap"
    clash = api.post(f"{base}/roadmap/rename", json={"new_key": "nested/key with spaces"})
    assert clash.status_code == 409

    stale_delete = api.delete(f"{base}/roadmap", params={"expected_version": 1})
    assert stale_delete.status_code == 409
    assert api.delete(f"{base}/roadmap").status_code == 204
    assert api.get(f"{base}/roadmap").status_code == 404
    assert api.get("/sessions/sess_nope/working-memory").status_code == 404


def test_commit_turns_working_memory_into_memories(api: httpx.Client) -> None:
    sid = new_session(api, agent="agent_commit")["id"]
    base = f"/sessions/{sid}/working-memory"
    api.put(f"{base}/decision", json={"value": "use sqlite", "importance": 0.9})
    api.put(f"{base}/scratch", json={"value": "tmp", "importance": 0.1})
    result = api.post(f"/sessions/{sid}/commit", json={"min_importance": 0.5}).json()
    assert result["memories_created"] == 1 and result["memories_deduplicated"] == 0
    assert result["created_keys"] == ["decision"] and result["skipped_keys"] == ["scratch"]
    memory = api.get(f"/memories/{result['memory_ids'][0]}").json()
    assert memory["session_id"] == sid
    again = api.post(f"/sessions/{sid}/commit").json()  # defaults: 0.5, deduplicate
    assert again["memories_created"] == 0 and again["memories_deduplicated"] == 1


def test_snapshots_latest_and_by_id(api: httpx.Client) -> None:
    sid = new_session(api, agent="agent_snap")["id"]
    first = api.post(
        f"/sessions/{sid}/snapshots",
        json={"event": "checkpoint", "files_modified": ["a.py"], "open_tasks": ["write tests"]},
    )
    assert first.status_code == 201
    second = api.post(
        f"/sessions/{sid}/snapshots",
        json={"event": "pre_compact", "project_path": "/src", "key_decisions": ["keyset paging"]},
    ).json()
    listed = api.get(f"/sessions/{sid}/snapshots").json()
    assert [s["id"] for s in listed["snapshots"]] == [second["id"], first.json()["id"]]
    assert listed["count"] == 2
    latest = api.get("/snapshots/latest", params={"agent_id": "agent_snap"}).json()
    assert latest["id"] == second["id"] and latest["key_decisions"] == ["keyset paging"]
    assert api.get(f"/snapshots/{first.json()['id']}").json()["files_modified"] == ["a.py"]
    assert api.get("/snapshots/snap_nope").status_code == 404
    assert api.get("/snapshots/latest", params={"agent_id": "agent_none"}).status_code == 404
    bad = api.post(f"/sessions/{sid}/snapshots", json={"event": "lunch"})
    assert bad.status_code == 400 and bad.json()["field"] == "event"


def test_briefing(api: httpx.Client) -> None:
    sid = new_session(api, agent="agent_brief", ttl_seconds=600)["id"]
    api.post("/memories", json={"agent_id": "agent_brief", "session_id": sid, "content": "did X"})
    api.post(f"/sessions/{sid}/snapshots", json={"open_tasks": ["finish Y"]})
    body = api.get("/briefing", params={"agent_id": "agent_brief", "lookback": "2h"}).json()
    assert [m["content"] for m in body["recent_activity"]] == ["did X"]
    assert [t["task"] for t in body["open_threads"]] == ["finish Y"]
    assert [s["id"] for s in body["active_sessions"]] == [sid]
    assert [s["id"] for s in body["expiring_soon"]] == [sid]
    assert body["lookback_seconds"] == 7200
    bad = api.get("/briefing", params={"lookback": "forever"})
    assert bad.status_code == 400 and bad.json()["field"] == "lookback"


def test_patch_and_delete_memories(api: httpx.Client) -> None:
    memory = api.post(
        "/memories", json={"agent_id": "agent_ext", "content": "draft", "tags": ["a"]}
    ).json()
    patched = api.patch(
        f"/memories/{memory['id']}",
        json={"content": "final", "importance": 0.7, "tags": ["a", "b"], "memory_type": "entity"},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["content"], body["importance"], body["tags"], body["memory_type"]) == (
        "final",
        0.7,
        ["a", "b"],
        "entity",
    )
    assert body["id"] == memory["id"] and body["time"] == memory["time"]
    assert api.patch(f"/memories/{memory['id']}", json={"importance": 2}).status_code == 400
    assert api.patch("/memories/mem_nope", json={"content": "x"}).status_code == 404
    assert api.delete(f"/memories/{memory['id']}").status_code == 204
    assert api.get(f"/memories/{memory['id']}").status_code == 404
    assert api.delete(f"/memories/{memory['id']}").status_code == 404


def test_count_types_exclusions_and_content_filters(api: httpx.Client) -> None:
    sid = new_session(api, agent="agent_count")["id"]
    api.post(
        "/memories",
        json={
            "memories": [
                {
                    "agent_id": "agent_count",
                    "session_id": sid,
                    "content": "alpha",
                    "memory_type": "skill",
                },
                {
                    "agent_id": "agent_count",
                    "session_id": sid,
                    "content": "beta",
                    "importance": 0.9,
                },
                {"agent_id": "agent_count", "session_id": sid, "content": "ALPHA two"},
            ]
        },
    )
    assert api.get("/memories/count", params={"session_id": sid}).json() == {"count": 3}
    excluded = api.get("/memories/count", params={"session_id": sid, "exclude_types": "skill"})
    assert excluded.json() == {"count": 2}
    contains = api.get("/memories", params={"session_id": sid, "content_contains": "alpha"}).json()
    assert contains["count"] == 2
    important = api.get("/memories", params={"session_id": sid, "min_importance": 0.5}).json()
    assert [m["content"] for m in important["memories"]] == ["beta"]
    searched = api.post("/search", json={"session_id": sid, "exclude_types": ["episodic"]}).json()
    assert [m["content"] for m in searched["results"]] == ["alpha"]
    assert searched["has_more"] is False
    types = api.get("/memory-types", params={"session_id": sid}).json()["memory_types"]
    assert {"episodic", "session", "decision", "entity", "skill"} <= set(types)
    bad_cursor = api.get("/memories", params={"after": "garbage"})
    assert bad_cursor.status_code == 400 and bad_cursor.json()["field"] == "after"


def test_changes_feed_by_cursor(api: httpx.Client) -> None:
    start = api.get("/changes", params={"after": 0, "limit": 1}).json()["latest_id"]
    session = new_session(api, agent="agent_changes")
    api.put(f"/sessions/{session['id']}/working-memory/k", json={"value": 1})
    body = api.get("/changes", params={"after": start}).json()
    kinds = [c["kind"] for c in body["changes"]]
    assert "session.created" in kinds and kinds[-1] == "working_memory.changed"
    assert body["count"] == len(body["changes"]) and body["has_more"] is False
    assert body["latest_id"] == body["changes"][-1]["id"]
    ids = [c["id"] for c in body["changes"]]
    assert ids == sorted(ids) and ids[0] > start
    created = next(c for c in body["changes"] if c["kind"] == "session.created")
    assert created["data"]["id"] == session["id"]
    paged = api.get("/changes", params={"after": start, "limit": 1}).json()
    assert paged["count"] == 1 and paged["has_more"] is True
    assert api.get("/changes", params={"after": -1}).status_code == 400


def test_imports_may_bring_memory_ids_and_times(api: httpx.Client) -> None:
    body = api.post(
        "/memories",
        json={
            "agent_id": "agent_import",
            "content": "from the archive",
            "id": "mem_imported_1",
            "time": "2025-01-02T03:04:05+01:00",
        },
    )
    assert body.status_code == 201
    assert body.json()["id"] == "mem_imported_1"
    assert body.json()["time"] == "2025-01-02T02:04:05Z"
    again = api.post(
        "/memories", json={"agent_id": "agent_import", "content": "x", "id": "mem_imported_1"}
    )
    assert again.status_code == 409
    bad_time = api.post("/memories", json={"agent_id": "a", "content": "x", "time": "noon"})
    assert bad_time.status_code == 400 and bad_time.json()["field"] == "time"


def test_put_agent_ensures_it_exists(api: httpx.Client) -> None:
    first = api.put("/agents/agent_ensured")
    assert first.status_code == 200
    assert first.json()["id"] == first.json()["name"] == "agent_ensured"
    assert api.put("/agents/agent_ensured").json() == first.json()
    assert (
        len([a for a in api.get("/agents").json()["agents"] if a["name"] == "agent_ensured"]) == 1
    )


def test_memory_time_must_be_text(api: httpx.Client) -> None:
    response = api.post("/memories", json={"agent_id": "a", "content": "x", "time": 0})
    assert response.status_code == 400 and response.json()["field"] == "time"
