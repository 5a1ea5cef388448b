"""The real `memorylayer-client` 0.2.1 against `memtui serve`'s MemoryLayer dialect (/v1):
every call seed 002 uses, and the seed's own snippets, in the cached Python 3.12 venv
(tests/helpers/memorylayer.py; without Python 3.12 these skip, and CI fails instead)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dialects.conftest import SEED_EXAMPLES
from tests.helpers.live_server import LiveServer
from tests.helpers.memorylayer import MemoryLayerServer, run_client


@pytest.fixture(scope="module")
def venv(memorylayer_venv: Path) -> Path:
    return memorylayer_venv


def _client(server: LiveServer, venv: Path, body: str, workspace: str | None = None) -> list[Any]:
    return run_client(server.url, body, workspace_id=workspace, api_key=server.api_key, venv=venv)


def test_every_call_the_seed_uses_works(server: LiveServer, venv: Path) -> None:
    out = _client(
        server,
        venv,
        """
        session = await client.create_session(ttl_seconds=600, workspace_id="ml-calls")
        emit({"created": session})
        await client.set_context(session.id, "current_task", {"file": "auth.py"})
        await client.set_context(session.id, "user_name", "Alice")
        emit({"context": await client.get_context(session.id, ["current_task", "user_name"])})
        emit({"touched": await client.touch_session(session.id)})
        emit({"got": await client.get_session(session.id)})
        emit({"listed": await client.list_sessions(workspace_id="ml-calls")})
        memory = await client.remember(
            "User prefers concise code comments", type="semantic", importance=0.8,
            tags=["preferences"], workspace_id="ml-calls",
        )
        await client.remember("Deploys go out on Fridays", workspace_id="ml-calls")
        emit({"remembered": memory})
        emit({"fetched": await client.get_memory(memory.id)})
        recalled = await client.recall("code comments", workspace_id="ml-calls")
        emit({"recalled": [m.content for m in recalled.memories], "total": recalled.total_count})
        once = await client.commit_session(session.id, min_importance=0.5, deduplicate=True)
        twice = await client.commit_session(session.id, min_importance=0.5, deduplicate=True)
        emit({"committed": once, "again": twice})
        emit({"briefing": await client.get_briefing(lookback_hours=24)})
        emit({"deleted": await client.delete_session(session.id)})
        """,
    )
    results = {key: value for item in out for key, value in item.items()}
    created = results["created"]
    assert (created["workspace_id"], created["metadata"]) == ("ml-calls", {})
    assert results["context"] == {"current_task": {"file": "auth.py"}, "user_name": "Alice"}
    assert results["touched"]["expires_at"] >= created["expires_at"]
    assert results["got"]["id"] == created["id"]  # get_session parses (it fails on the real one)
    assert [s["id"] for s in results["listed"]] == [created["id"]]
    assert (results["remembered"]["type"], results["remembered"]["importance"]) == ("semantic", 0.8)
    assert results["fetched"]["content"] == "User prefers concise code comments"
    assert results["recalled"] == ["User prefers concise code comments"]
    assert results["committed"]["memories_created"] == 2
    assert (results["again"]["memories_created"], results["again"]["memories_deduplicated"]) == (
        0,
        2,
    )
    assert results["briefing"]["workspace_summary"]["total_memories"] >= 4  # get_briefing parses
    assert results["deleted"] is True
    # What the client wrote is memtui's: the workspace is the agent, working memory is
    # memtui's working memory (version 1 each), the memories are memtui memories.
    with server.client(timeout=10) as api:
        assert api.get(f"/sessions/{created['id']}").status_code == 404  # deleted
        memories = api.get("/memories", params={"agent_id": "ml-calls", "limit": 10}).json()
        contents = {m["content"] for m in memories["memories"]}
        assert "Deploys go out on Fridays" in contents
        assert any(c.startswith("current_task") for c in contents)


def _fragments() -> list[tuple[str, str]]:
    text = (SEED_EXAMPLES / "memorylayer_client.py.txt").read_text("utf-8")
    parts = text.split("\n# --- ")[1:]
    return [(part.split("\n", 1)[0], part.split("\n", 1)[1]) for part in parts]


def _seed_script() -> str:
    """The seed's snippets in order, each reporting what it printed or raised."""
    lines = ["print = lambda *args: emit({'print': ' '.join(map(str, args))})"]
    for title, code in _fragments():
        lines += [
            "try:",
            textwrap.indent(code, "    "),
            f"    emit({{'fragment': {title!r}, 'ok': True}})",
            "except Exception as exc:",
            f"    emit({{'fragment': {title!r}, 'ok': False, "
            "'error': f'{type(exc).__name__}: {exc}'})",
        ]
    return "\n".join(lines)


def _outcomes(out: list[Any]) -> dict[str, str]:
    return {
        item["fragment"]: "ok" if item["ok"] else item["error"]
        for item in out
        if "fragment" in item
    }


def test_the_seeds_snippets_run_as_on_the_real_server(
    server: LiveServer, venv: Path, memorylayer_server: MemoryLayerServer
) -> None:
    """Every snippet works against memtui, except two lines the seed gets wrong about
    memorylayer-client 0.2.1 (its get_briefing model has no recent_activity_summary; its
    get_context returns {key: value}, not the value), which fail the same way against
    the real server, where get_briefing itself fails besides."""
    ours = _client(server, venv, _seed_script())
    real = run_client(memorylayer_server.url, _seed_script(), venv=venv)
    mine, theirs = _outcomes(ours), _outcomes(real)
    assert list(mine) == [title for title, _ in _fragments()]
    assert "recent_activity_summary" in mine.pop("Session Briefings")
    assert mine.pop("Agent Task Tracking") == "KeyError: 'files_modified'"
    assert set(mine.values()) == {"ok"}, mine
    assert "ValidationError" in theirs["Session Briefings"]  # the real server's answer
    assert theirs["Agent Task Tracking"] == "KeyError: 'files_modified'"
    printed = [item["print"] for item in ours if "print" in item]
    assert printed[0].startswith("Session ID: sess_")
    assert printed[1] == "Created 1 long-term memories"


def test_errors_reach_the_client_as_its_exceptions(server: LiveServer, venv: Path) -> None:
    out = _client(
        server,
        venv,
        """
        from memorylayer.exceptions import MemoryLayerError, NotFoundError
        try:
            await client.get_session("sess_missing")
        except NotFoundError as exc:
            emit({"not_found": exc.message})
        try:
            await client.create_session(ttl_seconds=5)
        except MemoryLayerError as exc:
            emit({"bad": [exc.status_code, exc.message]})
        """,
    )
    assert out[0] == {"not_found": "session 'sess_missing' not found"}
    assert out[1]["bad"][0] == 400
    assert "ttl_seconds" in out[1]["bad"][1] and "(got 5)" in out[1]["bad"][1]


def test_a_client_without_the_key_is_refused(server: LiveServer, venv: Path) -> None:
    out = run_client(
        server.url,
        """
        from memorylayer.exceptions import AuthenticationError
        try:
            await client.list_sessions()
        except AuthenticationError as exc:
            emit({"refused": exc.message})
        """,
        venv=venv,
    )
    assert out == [{"refused": "missing API key"}]
    assert httpx.get(server.url + "/v1/sessions", timeout=10).json()["error"] == (
        "authentication_failed"
    )
