"""Attribution and backends.

- Every backend call a tool makes runs with `current_actor() == "mcp:<client name>"`,
  in the worker thread that makes it (the context is copied into the thread). This is
  the server object in-process with the SDK's client, on a real SQLite store wrapped
  to record the actor at each call (nothing else can see it until history records it).
- `memtui mcp --server URL` works through the HTTP backend against a real `memtui
  serve`; against a plain Memtrace server it offers only the tools that server supports.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from mcp.types import Implementation

from memtui.domain.actor import current_actor
from memtui.mcp.server import MemtuiMcpServer
from tests.helpers.live_server import LiveServer, start_live_server
from tests.helpers.mcp_server import call, stdio_client_for

WRITES = {
    "create_session",
    "add_memories",
    "set_working_memory",
    "create_snapshot",
    "extend_session",
    "commit_working_memory",
    "close_session",
}


class RecordingBackend:
    """A real store; every method call records (name, actor, thread)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, str, str]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, current_actor(), threading.current_thread().name))
            return attribute(*args, **kwargs)

        return recorded


@pytest.fixture
def recording(sqlite_url: str) -> Iterator[RecordingBackend]:
    from memtui.store import SqlStore

    store = SqlStore(sqlite_url)
    yield RecordingBackend(store)
    store.close()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_backend_call_is_made_as_mcp_client(
    recording: RecordingBackend, mode: str
) -> None:
    server = MemtuiMcpServer(recording, stdio=True)  # type: ignore[arg-type]
    info = Implementation(name="claude-code", version="2.1")
    async with Client(server.server, mode=mode, client_info=info) as client:
        recording.calls.clear()  # the capability probe at start is not a tool call
        await call(client, "memory_session_start")
        await call(client, "memory_remember", {"content": "x", "type": "decision"})
        await call(client, "memory_working_set", {"key": "k", "value": 1, "importance": 0.9})
        await call(client, "memory_snapshot", {"open_tasks": ["t"]})
        await call(client, "memory_extend", {"hours": 1})
        await call(client, "memory_session_commit")
        await call(client, "memory_recall", {"query": "x"})
        await call(client, "memory_session_end", {"commit": False})
    assert current_actor() == "cli"  # nothing leaked out of the calls
    made = {name for name, _, _ in recording.calls}
    assert made >= WRITES
    for name, actor, thread in recording.calls:
        assert actor == "mcp:claude-code", (name, actor)
        assert thread != threading.main_thread().name, name  # a worker thread, copied


async def test_two_clients_at_once_keep_their_own_actor(recording: RecordingBackend) -> None:
    import anyio

    server = MemtuiMcpServer(recording, stdio=False)  # type: ignore[arg-type]

    async def agent(name: str) -> None:
        info = Implementation(name=name, version="1")
        async with Client(server.server, mode="legacy", client_info=info) as client:
            for index in range(5):
                await call(client, "memory_remember", {"content": f"{name} {index}"})

    async with anyio.create_task_group() as group:
        group.start_soon(agent, "alpha")
        group.start_soon(agent, "beta")
    adds = [actor for name, actor, _ in recording.calls if name == "add_memories"]
    assert sorted(adds) == ["mcp:alpha"] * 5 + ["mcp:beta"] * 5


@pytest.fixture
def memtui_server(sqlite_url: str) -> Iterator[LiveServer]:
    with start_live_server(sqlite_url) as server:
        yield server


async def test_over_a_memtui_server(memtui_server: LiveServer) -> None:
    args = ("--server", memtui_server.url, "--api-key", memtui_server.api_key)
    async with stdio_client_for(None, *args) as (client, errlog):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert len(tools) == 12
        started = await call(client, "memory_session_start", {"ttl_seconds": 600})
        session_id = started.data["session"]["id"]
        await call(client, "memory_remember", {"content": "through the server", "tags": ["t"]})
        await call(client, "memory_working_set", {"key": "k", "value": [1, 2]})
        context = await call(client, "memory_context", {"max_tokens": 200})
        assert "through the server" in context.data["context"]
        assert (await call(client, "memory_extend", {"hours": 1})).is_error is False
        assert (await call(client, "memory_snapshot", {"open_tasks": ["x"]})).is_error is False
        briefing = await call(client, "memory_briefing")
        assert [t["task"] for t in briefing.data["open_threads"]] == ["x"]
        ended = await call(client, "memory_session_end")
        assert ended.data["commit"]["created_keys"] == ["k"]
        assert "Traceback" not in errlog.read()
    with memtui_server.client() as http:
        listed = http.get("/memories", params={"session_id": session_id}).json()
    contents = {m["content"] for m in listed["memories"]}
    assert "through the server" in contents
    assert api_key_not_logged(errlog.read(), memtui_server.api_key)


def api_key_not_logged(output: str, key: str) -> bool:
    return key not in output


async def test_a_plain_memtrace_server_gets_only_the_tools_it_supports(sqlite_url: str) -> None:
    with start_live_server(sqlite_url, plain_memtrace=True) as plain:
        args = ("--server", plain.url, "--api-key", plain.api_key)
        async with stdio_client_for(None, *args) as (client, _):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert "memory_working_set" not in tools and "memory_extend" not in tools
            assert {"memory_session_start", "memory_remember", "memory_recall"} <= tools
            hidden = await call(client, "memory_working_set", {"key": "k", "value": 1})
            assert hidden.is_error and "does not support" in hidden.text
            await call(client, "memory_session_start")
            stored = await call(client, "memory_remember", {"content": "plain"})
            assert not stored.is_error, stored.text
            ended = await call(client, "memory_session_end")
            assert ended.is_error and "argument 'commit'" in ended.text
            assert not (await call(client, "memory_session_end", {"commit": False})).is_error
