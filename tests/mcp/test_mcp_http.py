"""`memtui mcp --http`: the official MCP SDK client against a real `memtui mcp` serving
streamable HTTP on 127.0.0.1, in both protocol eras: the initialize handshake (what
Claude Code and most clients speak today; one state per connection) and the stateless
2026-07-28 protocol (the SDK's default; no connection to keep a current session on)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.mcp_server import McpHttpServer, call, http_client
from tests.helpers.mcp_server import mcp_command as memtui_mcp


@pytest.fixture
def server(sqlite_url: str) -> Iterator[McpHttpServer]:
    with McpHttpServer(sqlite_url) as running:
        yield running


async def test_each_connection_has_its_own_current_session(server: McpHttpServer) -> None:
    first_client = http_client(server.url, client_name="claude-code", mode="legacy")
    second_client = http_client(server.url, client_name="cursor", mode="legacy")
    async with first_client as first, second_client as second:
        one = (await call(first, "memory_session_start")).data["session"]
        two = (await call(second, "memory_session_start")).data["session"]
        assert one["id"] != two["id"]
        assert (one["agent_id"], two["agent_id"]) == ("claude-code", "cursor")
        await call(first, "memory_remember", {"content": "from the first"})
        await call(second, "memory_remember", {"content": "from the second"})
        status_one = await call(first, "memory_session_status")
        status_two = await call(second, "memory_session_status")
        assert status_one.data["session"]["id"] == one["id"]
        assert status_two.data["session"]["id"] == two["id"]
        assert status_one.data["memory_count"] == status_two.data["memory_count"] == 1
        # Every tool works over HTTP as over stdio.
        await call(first, "memory_working_set", {"key": "task", "value": {"n": 1}})
        assert (await call(first, "memory_working_get", {"key": "task"})).data["item"]["value"]
        context = await call(first, "memory_context", {"max_tokens": 100})
        assert "from the first" in context.data["context"]
        assert "from the second" not in context.data["context"]
        assert (await call(first, "memory_snapshot", {"open_tasks": ["a"]})).is_error is False
        assert (await call(first, "memory_extend", {"hours": 1})).is_error is False
        briefing = await call(first, "memory_briefing")
        assert [t["task"] for t in briefing.data["open_threads"]] == ["a"]
        recall = await call(second, "memory_recall", {"query": "second"})
        assert [m["content"] for m in recall.data["memories"]] == ["from the second"]
        ended = await call(first, "memory_session_end")
        assert ended.data["session"]["status"] == "closed"
        assert (await call(first, "memory_session_status")).data["session"] is None
        assert (await call(second, "memory_session_status")).data["session"]["id"] == two["id"]
    # A new connection starts with no current session.
    async with http_client(server.url, mode="legacy") as third:
        assert (await call(third, "memory_session_status")).data["session"] is None
    assert "Traceback" not in server.output()


async def test_the_stateless_protocol_says_to_pass_session_id(server: McpHttpServer) -> None:
    async with http_client(server.url, client_name="sdk-agent") as client:  # mode auto
        started = await call(client, "memory_session_start")
        assert started.data["current"] is False
        assert "session_id" in started.data["note"]
        session_id = started.data["session"]["id"]
        status = await call(client, "memory_session_status")
        assert status.data["session"] is None and "pass session_id" in status.data["message"]
        needs = await call(client, "memory_snapshot", {"open_tasks": ["x"]})
        assert needs.is_error and "argument 'session_id'" in needs.text
        assert "stateless" in needs.text
        loose = await call(client, "memory_remember", {"content": "loose"})
        assert loose.data["memory"]["session_id"] is None
        assert "keeps no state" in loose.data["note"]
        explicit = await call(
            client, "memory_remember", {"content": "kept", "session_id": session_id}
        )
        assert "note" not in explicit.data
        assert explicit.data["memory"]["session_id"] == session_id
        assert explicit.data["memory"]["agent_id"] == "sdk-agent"
        status = await call(client, "memory_session_status", {"session_id": session_id})
        assert status.data["memory_count"] == 1
        bad = await call(client, "memory_remember", {"content": "x", "importance": 9})
        assert bad.is_error and "argument 'importance'" in bad.text


def test_dns_rebinding_is_refused_on_loopback(server: McpHttpServer) -> None:
    """A web page cannot reach the loopback server through a name that resolves to it:
    the Host header must be a loopback one (the SDK's protection, on by default here)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"accept": "application/json, text/event-stream"}
    evil = httpx.post(
        server.url, json=body, headers={**headers, "host": "evil.example:80"}, timeout=30
    )
    assert evil.status_code in (400, 403, 421)
    evil_origin = httpx.post(
        server.url, json=body, headers={**headers, "origin": "http://evil.example"}, timeout=30
    )
    assert evil_origin.status_code in (400, 403)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_non_loopback_host_is_warned_about(sqlite_url: str) -> None:
    # 192.0.2.1 (TEST-NET-1) is not an address of this machine: the bind fails, so
    # nothing listens anywhere but the warning has been given first.
    result = _run("mcp", "--db", sqlite_url, "--http", "--host", "192.0.2.1", "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "WARNING" in lines[0] and "not a loopback address" in lines[0]
    assert "cannot listen on 192.0.2.1:0" in lines[-1]
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_one_line(sqlite_url: str, server: McpHttpServer) -> None:
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    result = _run("mcp", "--db", sqlite_url, "--http", "--port", port)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"memtui mcp: cannot listen on 127.0.0.1:{port}: the address is already in use"
    ]


def test_stops_cleanly_on_sigterm(sqlite_url: str) -> None:
    running = McpHttpServer(sqlite_url).start()
    try:
        assert running.stop() == 0
        assert "stopped" in running.output() and "Traceback" not in running.output()
    finally:
        running.errlog.close()
    assert memtui_mcp(sqlite_url)[-1] == sqlite_url
