"""The real MemoryLayer server and client run here (issue 11 and 12's test fixture).

A session made through raw HTTP is read back by the official `memorylayer-client`, and
the two places where that client disagrees with its own server are pinned, so the
adapter and the dialect know exactly what they must satisfy.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.helpers.memorylayer import PINNED, MemoryLayerServer, build_info


def test_the_pinned_server_and_client_are_what_runs(memorylayer_server: MemoryLayerServer) -> None:
    info = build_info(memorylayer_server.venv)
    assert tuple(info["pins"]) == PINNED and info["python"].startswith("3.12.")
    assert httpx.get(f"{memorylayer_server.url}/health").json() == {"status": "healthy"}
    [versions] = memorylayer_server.run_client(
        """
        from importlib.metadata import version
        emit({"client": version("memorylayer-client"), "server": version("memorylayer-server")})
        """
    )
    assert versions == {"client": "0.2.1", "server": "0.2.0"}


def test_a_session_made_over_http_is_read_back_by_the_client(
    memorylayer_server: MemoryLayerServer,
) -> None:
    workspace = "smoke-fixture"
    created = httpx.post(
        f"{memorylayer_server.url}/v1/sessions",
        json={
            "workspace_id": workspace,
            "ttl_seconds": 600,
            "working_memory": {"task": {"goal": "fix login"}},
        },
    )
    assert created.status_code == 201, created.text
    session = created.json()["session"]
    assert session["workspace_id"] == workspace

    [listed, context] = memorylayer_server.run_client(
        f"""
        emit(await client.list_sessions())
        emit(await client.get_context({session["id"]!r}, ["task"]))
        """,
        workspace_id=workspace,
    )
    assert [item["id"] for item in listed] == [session["id"]]
    assert datetime.fromisoformat(listed[0]["expires_at"]) == datetime.fromisoformat(
        session["expires_at"]
    )
    assert context == {"task": {"goal": "fix login"}}


def test_the_client_models_that_do_not_match_the_real_server(
    memorylayer_server: MemoryLayerServer,
) -> None:
    """`get_session` and `get_briefing` fail against memorylayer-server 0.2.0: the server
    wraps the object (`{"session": {...}}`, `{"briefing": {...}}`) and the client reads
    the fields at the top level. memtui's MemoryLayer dialect must satisfy both."""
    [outcome] = memorylayer_server.run_client(
        """
        session = await client.create_session(ttl_seconds=600, workspace_id="smoke-models")
        failures = {}
        for name, call in (
            ("get_session", lambda: client.get_session(session.id)),
            ("get_briefing", lambda: client.get_briefing(lookback_hours=1)),
        ):
            try:
                await call()
                failures[name] = None
            except Exception as exc:
                failures[name] = [type(exc).__name__, sorted(e["loc"][0] for e in exc.errors())]
        emit(failures)
        """,
    )
    assert outcome == {
        "get_session": ["ValidationError", ["created_at", "expires_at", "id", "workspace_id"]],
        "get_briefing": ["ValidationError", ["workspace_summary"]],
    }
