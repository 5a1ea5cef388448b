"""memtui against a real `memorylayer-server` 0.2.0 (issue 12): found on its own, data
written through MemoryLayer's own API (raw HTTP and the official `memorylayer-client`)
shows in memtui, and memtui's writes read back through MemoryLayer's API.

One server for the run (`memorylayer_server`); every test keeps to its own workspaces
(`ws` fixture), so tests never see each other's data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from memtui.connect import BackendTarget, open_backend, resolve_target
from memtui.domain.errors import (
    BackendUnavailableError,
    InvalidInputError,
    NotFoundError,
    UnsupportedError,
    VersionConflictError,
)
from memtui.domain.models import (
    Capability,
    ContextRequest,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
)
from memtui.domain.tokens import count_tokens
from memtui.remote import HttpBackend
from memtui.remote.memorylayer import CAPABILITIES, MemoryLayerBackend
from tests.helpers.live_server import free_port
from tests.helpers.memorylayer import MemoryLayerServer


@pytest.fixture
def ws() -> str:
    """A workspace id of this test's own."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ml(memorylayer_server: MemoryLayerServer) -> Iterator[MemoryLayerBackend]:
    backend = MemoryLayerBackend(memorylayer_server.url)
    yield backend
    backend.close()


@pytest.fixture
def http(memorylayer_server: MemoryLayerServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=memorylayer_server.url, timeout=30.0) as client:
        yield client


def raw_session(http: httpx.Client, workspace: str, ttl: int = 3600, **extra: Any) -> dict:
    answer = http.post(
        "/v1/sessions", json={"workspace_id": workspace, "ttl_seconds": ttl, **extra}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["session"]


def raw_memory(http: httpx.Client, workspace: str, content: str, **extra: Any) -> dict:
    answer = http.post(
        "/v1/memories",
        json={"content": content, **extra},
        headers={"X-Workspace-ID": workspace},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["memory"]


def server_expiry(http: httpx.Client, session_id: str) -> datetime:
    data = http.get(f"/v1/sessions/{session_id}").json()["session"]
    return datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))


# --- finding the backend ----------------------------------------------------------------


def test_memtui_server_url_recognises_memorylayer(memorylayer_server: MemoryLayerServer) -> None:
    with HttpBackend(memorylayer_server.url) as backend:
        assert backend.server_info.is_memorylayer
        assert backend.capabilities() == CAPABILITIES
        assert backend.describe() == f"MemoryLayer {memorylayer_server.url}"
        assert isinstance(backend.client, MemoryLayerBackend)
        with pytest.raises(UnsupportedError, match="cannot be closed"):
            backend.close_session("sess_x")


def test_both_signs_of_memorylayer_hold_on_the_real_server(http: httpx.Client) -> None:
    from memtui.remote.memorylayer.detect import (
        openapi_says_memorylayer,
        sessions_say_memorylayer,
    )

    assert http.get("/health").json() == {"status": "healthy"}  # tells nothing itself
    assert openapi_says_memorylayer(http.get("/openapi.json").json())
    assert sessions_say_memorylayer(http.get("/v1/sessions").json())
    assert not openapi_says_memorylayer({"paths": {"/api/v1/sessions": {}}})
    assert not sessions_say_memorylayer({"sessions": []})


def test_backend_memorylayer_forces_the_choice(memorylayer_server: MemoryLayerServer) -> None:
    target = resolve_target(server=memorylayer_server.url, backend="memorylayer")
    assert target == BackendTarget(server_url=memorylayer_server.url, backend="memorylayer")
    with open_backend(target) as backend:
        assert isinstance(backend, MemoryLayerBackend)
    with pytest.raises(InvalidInputError, match="unknown backend 'mystery'"):
        resolve_target(server=memorylayer_server.url, backend="mystery")


def test_api_key_goes_as_bearer_and_is_masked(memorylayer_server: MemoryLayerServer) -> None:
    key = "ml-secret-key-123456"
    with MemoryLayerBackend(memorylayer_server.url, api_key=key) as backend:
        assert backend.api.transport.client.headers["authorization"] == f"Bearer {key}"
        assert "x-api-key" not in backend.api.transport.client.headers
        assert key not in backend.describe() and "key" in backend.describe()
        assert backend.list_sessions(agent_id="nobody-here") == []  # the server accepts it


def test_server_down_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with MemoryLayerBackend(url) as backend:
        with pytest.raises(
            BackendUnavailableError, match=f"cannot reach the MemoryLayer server at {url}"
        ):
            backend.list_sessions()
        assert backend.connection_state.status == "disconnected"


# --- sessions ---------------------------------------------------------------------------


def test_sessions_of_every_workspace_with_the_workspace_as_agent(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    first = raw_session(http, f"{ws}-a", metadata={"task": "survey"})
    second = raw_session(http, f"{ws}-b")

    listed = {s.id: s for s in ml.list_sessions()}
    assert {first["id"], second["id"]} <= set(listed)
    session = listed[first["id"]]
    assert (session.agent_id, session.workspace_id) == (f"{ws}-a", f"{ws}-a")
    assert session.metadata == {"task": "survey"}
    assert session.expires_at is not None
    left = session.time_left(ml.now())
    assert left is not None and timedelta(minutes=58) < left <= timedelta(hours=1)
    assert [s.id for s in ml.list_sessions(agent_id=f"{ws}-b")] == [second["id"]]
    assert f"{ws}-a" in {a.id for a in ml.list_agents()}


def test_extend_adds_six_hours_to_what_is_left(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws, ttl=3600)
    before = server_expiry(http, session["id"])

    extended = ml.extend_session(session["id"], timedelta(hours=6))

    after = server_expiry(http, session["id"])
    # touch SETS now + N: memtui sent what was left + 6 h, so the expiry moved by 6 h.
    assert abs(after - before - timedelta(hours=6)) < timedelta(seconds=3)
    assert extended.expires_at == after


def test_close_rename_and_key_delete_are_refused_politely(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws)
    for call, text in (
        (lambda: ml.close_session(session["id"]), "cannot be closed or reopened"),
        (lambda: ml.delete_working_memory(session["id"], "k"), "delete one working-memory key"),
        (lambda: ml.rename_working_memory(session["id"], "k", "j"), "cannot rename"),
        (lambda: ml.create_snapshot(session["id"], None), "no snapshots"),  # type: ignore[arg-type]
    ):
        with pytest.raises(UnsupportedError, match=text):
            call()
    for capability in (
        Capability.SESSION_CLOSE,
        Capability.WORKING_MEMORY_DELETE,
        Capability.WORKING_MEMORY_RENAME,
    ):
        assert capability not in ml.capabilities()


def test_delete_and_sessions_removed_on_the_server(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    mine = raw_session(http, ws)
    theirs = raw_session(http, ws)
    ml.delete_session(mine["id"])
    assert http.get(f"/v1/sessions/{mine['id']}").status_code == 404

    http.delete(f"/v1/sessions/{theirs['id']}")  # as the server's cleanup would
    assert ml.list_sessions(agent_id=ws) == []
    with pytest.raises(NotFoundError, match=theirs["id"]):
        ml.get_session(theirs["id"])
    with pytest.raises(NotFoundError):
        ml.delete_session(theirs["id"])


# --- working memory ---------------------------------------------------------------------


def test_working_memory_from_the_client_and_back(
    ml: MemoryLayerBackend, memorylayer_server: MemoryLayerServer, ws: str
) -> None:
    [session_id] = memorylayer_server.run_client(
        """
        session = await client.create_session(ttl_seconds=600, workspace_id=os.environ["WS"])
        await client.set_context(session.id, "task", {"goal": "fix auth", "files": []})
        emit(session.id)
        """.replace('os.environ["WS"]', repr(ws)),
        workspace_id=ws,
    )
    [item] = ml.list_working_memory(session_id)
    assert (item.key, item.value, item.version) == ("task", {"goal": "fix auth", "files": []}, 1)

    saved = ml.set_working_memory(
        session_id, "task", {"goal": "fix auth", "files": ["auth.py"]}, expected_version=1
    )
    assert saved.version == 2

    [seen] = memorylayer_server.run_client(
        f"emit(await client.get_context({session_id!r}, ['task']))", workspace_id=ws
    )
    assert seen == {"task": {"goal": "fix auth", "files": ["auth.py"]}}


def test_a_change_made_elsewhere_is_never_overwritten(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws)
    sid = session["id"]
    http.post(f"/v1/sessions/{sid}/memory", json={"key": "plan", "value": "v1"})
    loaded = ml.get_working_memory(sid, "plan")

    http.post(f"/v1/sessions/{sid}/memory", json={"key": "plan", "value": "theirs"})
    with pytest.raises(VersionConflictError) as conflict:
        ml.set_working_memory(sid, "plan", "mine", expected_version=loaded.version)

    assert conflict.value.current is not None
    assert conflict.value.current.value == "theirs"
    assert http.get(f"/v1/sessions/{sid}/memory").json() == {"plan": "theirs"}
    # Saving over theirs on purpose names their version.
    ml.set_working_memory(sid, "plan", "mine", expected_version=conflict.value.current.version)
    assert http.get(f"/v1/sessions/{sid}/memory").json() == {"plan": "mine"}
    with pytest.raises(VersionConflictError):
        ml.set_working_memory(sid, "plan", "again", expected_version=0)  # must not exist
    with pytest.raises(UnsupportedError, match="no importance"):
        ml.set_working_memory(sid, "plan", "x", importance=0.9)


# --- the timeline -----------------------------------------------------------------------


def test_memories_page_by_offset_and_filter_on_both_sides(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws)
    batch = [
        # Distinct words: 0.2.0 silently merges near-duplicates ("note 001", "note 002")
        {
            "content": f"note {i:03d} {uuid.uuid4().hex}",
            "type": "semantic" if i % 3 == 0 else "episodic",
        }
        | ({"tags": ["auth"]} if i % 5 == 0 else {})
        for i in range(230)  # more than one server page (200)
    ]
    answer = http.post(
        "/v1/memories/batch",
        json={"operations": [{"op": "create", **body} for body in batch]},
        headers={"X-Workspace-ID": ws},
    )
    assert answer.status_code == 200 and answer.json()["successful"] == 230, answer.text
    # What the server holds, read raw (it may have merged a near-duplicate or two).
    stored: list[dict] = []
    while True:
        rows = http.get(
            "/v1/memories",
            params={"limit": 200, "offset": len(stored)},
            headers={"X-Workspace-ID": ws},
        ).json()["memories"]
        stored += rows
        if len(rows) < 200:
            break
    assert len(stored) > 200

    seen: list[str] = []
    after = None
    while True:
        page = ml.list_memories(MemoryQuery(session_id=session["id"], limit=17, after=after))
        seen += [m.id for m in page.memories]
        if not page.has_more:
            break
        after = page.next_cursor
    assert seen == [row["id"] for row in stored]  # every one once, newest first
    oldest_first: list[str] = []
    after = None
    while True:  # as the TUI's timeline pages: keyset cursors of (time, id), oldest first
        page = ml.list_memories(MemoryQuery(agent_id=ws, limit=50, after=after, order="asc"))
        oldest_first += [m.id for m in page.memories]
        if not page.has_more:
            break
        after = page.next_cursor
    assert oldest_first == seen[::-1]

    semantic_auth = ml.list_memories(
        MemoryQuery(agent_id=ws, memory_types=("semantic",), tags=("auth",), limit=100)
    ).memories
    assert {m.id for m in semantic_auth} == {
        row["id"] for row in stored if row["type"] == "semantic" and "auth" in row["tags"]
    }
    text = MemoryQuery(agent_id=ws, content_contains="NOTE 12", exclude_types=("semantic",))
    assert {m.id for m in ml.list_memories(text).memories} == {
        row["id"]
        for row in stored
        if row["content"].startswith("note 12") and row["type"] != "semantic"
    }
    assert ml.count_memories(MemoryQuery(agent_id=ws)) == len(stored)
    assert ml.count_memories(MemoryQuery(agent_id=ws, memory_types=("semantic",))) == sum(
        1 for row in stored if row["type"] == "semantic"
    )


def test_memtuis_memory_edits_read_back_over_http(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    raw = raw_memory(http, ws, "first draft", type="episodic", tags=["x"])
    edited = ml.update_memory(
        raw["id"], MemoryPatch(content="final", tags=["x", "y"], importance=0.9)
    )
    assert (edited.content, edited.tags, edited.importance) == ("final", ["x", "y"], 0.9)
    back = http.get(f"/v1/memories/{raw['id']}").json()["memory"]
    assert (back["content"], back["tags"], back["importance"]) == ("final", ["x", "y"], 0.9)

    [added] = ml.add_memories([NewMemory(agent_id=ws, content="from memtui", tags=["m"])])
    assert http.get(f"/v1/memories/{added.id}").json()["memory"]["workspace_id"] == ws
    assert ml.delete_memories([raw["id"], added.id, "mem_missing"]) == 2
    assert http.get(f"/v1/memories/{raw['id']}").status_code == 404
    with pytest.raises(UnsupportedError, match="not a MemoryLayer type"):
        ml.add_memories([NewMemory(agent_id=ws, content="x", memory_type="decision")])


# --- context and briefing ---------------------------------------------------------------


def test_context_is_memtuis_engine_with_working_memory_and_the_server_pack(
    ml: MemoryLayerBackend, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws)
    sid = session["id"]
    raw_memory(http, ws, "use JWT with short expiry", type="semantic", importance=0.9)
    raw_memory(http, ws, "read the auth module", type="episodic")
    http.post(f"/v1/sessions/{sid}/memory", json={"key": "task", "value": {"goal": "auth"}})

    result = ml.build_context(sid, ContextRequest())
    assert result.context.startswith(f"## Session Context ({sid})")
    assert "use JWT with short expiry" in result.context
    assert 'task: {"goal":"auth"}' in result.context
    assert result.memory_count == 3  # the working-memory copy is stood in for by the key
    assert result.token_count == count_tokens(result.context, "cl100k_base")
    small = ml.build_context(sid, ContextRequest(max_tokens=result.token_count - 1))
    assert small.token_count <= result.token_count - 1 and small.truncated

    pack = ml.server_context(sid, budget_tokens=500)
    assert "auth" in pack.text
    assert pack.exact_tokens == count_tokens(pack.text, "cl100k_base")
    assert pack.server_tokens > 0 and "chars" in pack.server_estimator
    with pytest.raises(NotFoundError):
        ml.build_context("sess_nope", ContextRequest())


def test_briefing_from_the_server(ml: MemoryLayerBackend, http: httpx.Client, ws: str) -> None:
    session = raw_session(http, ws)
    raw_memory(http, ws, "deployed v2", type="episodic")
    briefing = ml.briefing(agent_id=ws, lookback=timedelta(hours=1))
    assert [m.content for m in briefing.recent_activity] == ["deployed v2"]
    assert [s.id for s in briefing.active_sessions] == [session["id"]]


# --- the CLI ----------------------------------------------------------------------------


def memtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )


def test_cli_sessions_and_context(
    memorylayer_server: MemoryLayerServer, http: httpx.Client, ws: str
) -> None:
    session = raw_session(http, ws)
    raw_memory(http, ws, "the CLI reads this", type="episodic")
    listed = memtui("sessions", "--server", memorylayer_server.url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert session["id"] in listed.stdout and ws in listed.stdout

    context = memtui(
        "context", session["id"], "--server", memorylayer_server.url, "--backend", "memorylayer"
    )
    assert context.returncode == 0, context.stderr
    assert "the CLI reads this" in context.stdout

    missing = memtui("context", "sess_nope", "--server", memorylayer_server.url)
    assert missing.returncode == 2 and "sess_nope" in missing.stderr
    assert "Traceback" not in missing.stderr
