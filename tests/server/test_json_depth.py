"""Issue 8, items 1 and 11: JSON nesting.

- Every JSON field a client stores is limited to MAX_JSON_DEPTH levels: deeper is a 400
  naming the field and the limit (the issue's 600 levels were a 201 that then broke the
  feed for good; ~980 levels were a 500).
- No stored row can break a feed or a list: rows nested thousands of levels deep (or not
  JSON at all), written straight into the database as if before the limit existed, are
  served with the too-deep parts replaced by a visible marker, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import create_engine, text

from memtui.domain.safe_json import DEPTH_MARKER, INVALID_JSON_MARKER, MAX_JSON_DEPTH
from tests.helpers.hostile import deep_json, deep_json_text
from tests.helpers.live_server import LiveServer
from tests.helpers.sse import events


def _deep_memory_body(depth: int) -> str:
    # The reproduction, built as text (json.dumps of it would itself fail).
    return '{"agent_id":"p","content":"x","metadata":' + deep_json_text(depth) + "}"


def _assert_names(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field, body
    assert str(MAX_JSON_DEPTH) in body["error"] and field in body["error"], body


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 600, 980, 5000])
def test_deep_metadata_is_refused_naming_the_field_and_the_limit(
    api: httpx.Client, depth: int
) -> None:
    before = api.get("/changes", params={"limit": 1}).json()["latest_id"]
    response = api.post(
        "/memories",
        content=_deep_memory_body(depth),
        headers={"content-type": "application/json"},
    )
    _assert_names(response, "metadata")
    # Nothing was written, and the feed still answers.
    changes = api.get("/changes", params={"after": 0})
    assert changes.status_code == 200
    assert changes.json()["latest_id"] == before


def test_metadata_at_the_limit_is_stored_and_served(api: httpx.Client) -> None:
    created = api.post(
        "/memories",
        json={"agent_id": "p", "content": "at the limit", "metadata": deep_json(MAX_JSON_DEPTH)},
    )
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == deep_json(MAX_JSON_DEPTH)
    assert api.get("/changes", params={"after": 0}).status_code == 200
    assert api.get("/briefing").status_code == 200


def test_a_deep_item_of_a_batch_is_named_and_nothing_is_written(api: httpx.Client) -> None:
    before = api.get("/memories/count").json()["count"]
    items = [{"agent_id": "p", "content": f"m{i}"} for i in range(3)]
    items[2]["metadata"] = deep_json(MAX_JSON_DEPTH + 1)
    response = api.post("/memories", json={"memories": items})
    _assert_names(response, "metadata")
    assert "memory #3" in response.json()["error"]
    # Too deep for the parser itself: the path through the batch is named.
    body = (
        '{"memories":[{"agent_id":"p","content":"a"},{"agent_id":"p","content":"b",'
        '"metadata":' + deep_json_text(3000) + "}]}"
    )
    response = api.post("/memories", content=body, headers={"content-type": "application/json"})
    _assert_names(response, "memories.1.metadata")
    assert api.get("/memories/count").json()["count"] == before


def test_every_json_field_has_the_limit(api: httpx.Client) -> None:
    too_deep = deep_json(MAX_JSON_DEPTH + 1)
    session = api.post("/sessions", json={"agent_id": "p"}).json()["id"]
    memory = api.post("/memories", json={"agent_id": "p", "content": "x"}).json()["id"]
    _assert_names(api.post("/sessions", json={"agent_id": "p", "metadata": too_deep}), "metadata")
    _assert_names(api.put(f"/sessions/{session}", json={"metadata": too_deep}), "metadata")
    _assert_names(
        api.put(f"/sessions/{session}/working-memory/k", json={"value": too_deep}), "value"
    )
    _assert_names(api.post("/agents", json={"name": "deep", "config": too_deep}), "config")
    _assert_names(api.patch(f"/memories/{memory}", json={"metadata": too_deep}), "metadata")
    # Bodies FastAPI parses itself, too deep for its JSON parser: still a 400 naming it.
    deep_value = '{"value":' + deep_json_text(4000) + "}"
    response = api.put(
        f"/sessions/{session}/working-memory/k",
        content=deep_value,
        headers={"content-type": "application/json"},
    )
    _assert_names(response, "value")
    # A working-memory value at the limit is fine.
    ok = api.put(f"/sessions/{session}/working-memory/k", json={"value": deep_json(MAX_JSON_DEPTH)})
    assert ok.status_code == 200, ok.text


# --- rows already stored -----------------------------------------------------------------

LEGACY_DEPTH = 5000  # far past what json.loads / json.dumps / asdict can take
MIDDLE_DEPTH = 600  # parses, but broke json.dumps and dataclasses.asdict


def _store_legacy_rows(db_url: str, api: httpx.Client) -> dict[str, str]:
    """Writes rows through the API, then makes their JSON columns deeper than any limit
    (or not JSON at all) straight in the database, as rows from before the limit."""
    session = api.post("/sessions", json={"agent_id": "legacy"}).json()["id"]
    memory = api.post(
        "/memories", json={"agent_id": "legacy", "content": "deep", "session_id": session}
    ).json()["id"]
    broken = api.post(
        "/memories", json={"agent_id": "legacy", "content": "broken", "session_id": session}
    ).json()["id"]
    assert api.put(f"/sessions/{session}/working-memory/plan", json={"value": 1}).status_code == 200
    snapshot = api.post(
        f"/sessions/{session}/snapshots",
        json={"event": "checkpoint", "open_tasks": ["t"], "files_modified": ["f"]},
    ).json()["id"]
    deepest = deep_json_text(LEGACY_DEPTH)
    middle = deep_json_text(MIDDLE_DEPTH)
    engine = create_engine(db_url)
    cast = "CAST(:v AS JSON)" if engine.dialect.name == "postgresql" else ":v"
    statements = [
        (f"UPDATE memory SET metadata = {cast} WHERE id = :id", deepest, memory),
        (f"UPDATE session SET metadata = {cast} WHERE id = :id", middle, session),
        (f"UPDATE working_memory SET value = {cast} WHERE session_id = :id", deepest, session),
        (f"UPDATE agent SET config = {cast} WHERE id = :id", middle, "legacy"),
        (f"UPDATE snapshot SET open_tasks = {cast} WHERE id = :id", "[" + deepest + "]", snapshot),
        (
            f"UPDATE change SET data = {cast} WHERE entity_id = :id",
            '{"id":"x","metadata":' + deepest + "}",
            memory,
        ),
    ]
    if engine.dialect.name == "sqlite":  # PostgreSQL's json type refuses non-JSON
        statements.append(("UPDATE memory SET metadata = :v WHERE id = :id", "{not json", broken))
    try:
        with engine.begin() as conn:
            for sql, value, key in statements:
                assert conn.execute(text(sql), {"v": value, "id": key}).rowcount >= 1, sql
    finally:
        engine.dispose()
    return {"session": session, "memory": memory, "broken": broken, "snapshot": snapshot}


def _check_everything_answers(live: LiveServer, ids: dict[str, str]) -> None:
    session = ids["session"]
    with live.client(timeout=30.0) as api:
        routes = [
            "/changes?after=0&limit=1000",
            "/briefing",
            "/briefing?agent_id=legacy",
            "/memories",
            "/memories?agent_id=legacy",
            f"/memories/{ids['memory']}",
            f"/memories/{ids['broken']}",
            "/sessions",
            f"/sessions/{session}",
            f"/sessions/{session}/memories",
            f"/sessions/{session}/working-memory",
            f"/sessions/{session}/working-memory/plan",
            f"/sessions/{session}/snapshots",
            f"/snapshots/{ids['snapshot']}",
            "/snapshots/latest",
            "/agents",
            "/agents/legacy",
            "/agents/legacy/memories",
        ]
        bodies: dict[str, str] = {}
        for route in routes:
            response = api.get(route)
            assert response.status_code == 200, (route, response.text[:300])
            bodies[route] = response.text
        search = api.post("/search", json={"agent_id": "legacy"})
        assert search.status_code == 200, search.text[:300]
        context = api.post(f"/sessions/{session}/context", json={})
        assert context.status_code == 200, context.text[:300]

    marker = json.dumps(DEPTH_MARKER)
    assert marker in bodies[f"/memories/{ids['memory']}"]
    if live.db_url.startswith("sqlite"):
        assert json.dumps(INVALID_JSON_MARKER) in bodies[f"/memories/{ids['broken']}"]
    assert marker in bodies[f"/sessions/{session}/working-memory/plan"]
    assert marker in bodies[f"/sessions/{session}"]
    assert marker in bodies["/agents/legacy"]
    assert marker in bodies[f"/snapshots/{ids['snapshot']}"]
    assert marker in bodies["/changes?after=0&limit=1000"]

    # The event stream replays every change, the deep one included, and goes on.
    latest = json.loads(bodies["/changes?after=0&limit=1000"])["latest_id"]
    with events(live, last_event_id=0) as reader:
        seen = reader.take(latest)
    assert [e.id for e in seen][-1] == latest
    assert any(DEPTH_MARKER in json.dumps(e.data) for e in seen)
    with live.client(timeout=10.0) as api:  # and it still takes writes that reach it
        assert (
            api.post("/memories", json={"agent_id": "legacy", "content": "after"}).status_code
            == 201
        )
    assert "Traceback" not in live.output()


def test_rows_stored_before_the_limit_never_break_a_feed_or_list_sqlite(
    start_server: Callable[..., LiveServer], sqlite_url: str
) -> None:
    live = start_server(sqlite_url)
    with live.client(timeout=10.0) as api:
        ids = _store_legacy_rows(sqlite_url, api)
    _check_everything_answers(live, ids)


@pytest.mark.postgres
def test_rows_stored_before_the_limit_never_break_a_feed_or_list_postgres(
    start_server: Callable[..., LiveServer], postgres_url: str
) -> None:
    live = start_server(postgres_url)
    with live.client(timeout=10.0) as api:
        ids = _store_legacy_rows(postgres_url, api)
    _check_everything_answers(live, ids)


def test_stored_rows_read_by_the_store_itself_are_cut_too(sqlite_url: str) -> None:
    """The CLI and the TUI read through SqlStore: same guarantee without a server."""
    from memtui.domain.models import NewMemory
    from memtui.store import SqlStore

    with SqlStore(sqlite_url) as store:
        memory = store.add_memories([NewMemory(agent_id="a", content="x")])[0]
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE memory SET metadata = :v WHERE id = :id"),
            {"v": deep_json_text(LEGACY_DEPTH), "id": memory.id},
        )
    engine.dispose()
    with SqlStore(sqlite_url) as store:
        read = store.get_memory(memory.id)
        json.dumps(read.to_json())  # no RecursionError
        assert DEPTH_MARKER in json.dumps(read.metadata)
        assert [c.kind for c in store.changes_since(0)]
