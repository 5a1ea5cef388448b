"""`memtui mcp` over stdio: the official MCP SDK client against a real `memtui mcp`
subprocess on a real SQLite file. Every tool, the tool list an agent reads, bad
arguments, hostile data, attribution to the client, and what lands in the store."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from typing import Any

import pytest

from memtui.domain.tokens import count_tokens
from tests.helpers.hostile import ISSUE_STRINGS, STORABLE_STRINGS, deep_json, deep_json_text
from tests.helpers.mcp_server import call, mcp_command, stdio_client_for

TOOL_NAMES = {
    "memory_session_start",
    "memory_session_status",
    "memory_session_commit",
    "memory_session_end",
    "memory_remember",
    "memory_recall",
    "memory_context",
    "memory_working_get",
    "memory_working_set",
    "memory_snapshot",
    "memory_extend",
    "memory_briefing",
}


def _store(sqlite_url: str) -> Any:
    from memtui.store import SqlStore

    return SqlStore(sqlite_url)


async def test_the_tool_list_an_agent_reads(sqlite_url: str) -> None:
    async with stdio_client_for(sqlite_url) as (client, errlog):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOL_NAMES
    for tool in tools.values():
        schema = tool.input_schema
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert len(tool.description or "") > 100, tool.name
        for name, prop in schema["properties"].items():
            assert len(prop.get("description", "")) > 20, (tool.name, name)
            assert "title" not in prop
    props = {name: set(tool.input_schema["properties"]) for name, tool in tools.items()}
    # Seed 002's documented arguments (plus an optional session_id where one applies).
    assert {"workspace_id", "ttl_seconds"} == props["memory_session_start"]
    assert props["memory_session_status"] == {"session_id"}
    assert "importance_threshold" in props["memory_session_commit"]
    assert "commit" in props["memory_session_end"]
    assert {"content", "type", "importance", "tags"} <= props["memory_remember"]
    assert tools["memory_remember"].input_schema["required"] == ["content"]
    assert {"query", "limit"} == props["memory_recall"]
    assert {"session_id", "max_tokens", "since"} <= props["memory_context"]
    assert {"files_modified", "key_decisions", "open_tasks", "event"} <= props["memory_snapshot"]
    event = tools["memory_snapshot"].input_schema["properties"]["event"]
    assert event["enum"] == ["pre_compact", "session_end", "checkpoint"]
    assert tools["memory_extend"].input_schema["required"] == ["hours"]
    assert tools["memory_recall"].annotations.read_only_hint is True
    assert tools["memory_remember"].annotations.read_only_hint is False
    assert "Traceback" not in errlog.read()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_tool_in_one_agent_session(sqlite_url: str, mode: str) -> None:
    async with stdio_client_for(sqlite_url, client_name="claude-code", mode=mode) as (
        client,
        errlog,
    ):
        status = await call(client, "memory_session_status")
        assert not status.is_error and status.data["session"] is None

        started = await call(
            client, "memory_session_start", {"workspace_id": "my-project", "ttl_seconds": 3600}
        )
        assert not started.is_error, started.text
        session = started.data["session"]
        session_id = session["id"]
        assert session["agent_id"] == "claude-code"  # the MCP client's name
        assert session["workspace_id"] == "my-project"
        assert 3590 <= session["seconds_left"] <= 3600
        assert started.data["current"] is True

        status = await call(client, "memory_session_status")
        assert status.data["session"]["id"] == session_id  # remembered per connection
        assert status.data["memory_count"] == 0

        remembered = await call(
            client,
            "memory_remember",
            {
                "content": "Use refresh-token rotation: stolen tokens expire",
                "type": "decision",
                "importance": 0.9,
                "tags": ["auth"],
            },
        )
        assert not remembered.is_error, remembered.text
        memory = remembered.data["memory"]
        assert memory["session_id"] == session_id and memory["memory_type"] == "decision"
        assert memory["tags"] == ["auth"] and memory["importance"] == 0.9
        plain = await call(client, "memory_remember", {"content": "Ran the auth tests: green"})
        assert plain.data["memory"]["memory_type"] == "episodic"

        recalled = await call(client, "memory_recall", {"query": "REFRESH-token", "limit": 5})
        assert not recalled.is_error
        assert [m["id"] for m in recalled.data["memories"]] == [memory["id"]]
        assert recalled.data["method"]

        written = await call(
            client,
            "memory_working_set",
            {"key": "current_task", "value": {"goal": "fix login", "files": ["auth.py"]}},
        )
        assert written.data["item"]["version"] == 1
        rewritten = await call(
            client,
            "memory_working_set",
            {
                "key": "current_task",
                "value": {"goal": "tests"},
                "expected_version": 1,
                "importance": 0.8,
            },
        )
        assert rewritten.data["item"]["version"] == 2
        stale = await call(
            client,
            "memory_working_set",
            {"key": "current_task", "value": "mine", "expected_version": 1},
        )
        assert stale.is_error
        assert "argument 'expected_version'" in stale.text and "version 2" in stale.text
        assert stale.data["error"]["current"]["value"] == {"goal": "tests"}
        one = await call(client, "memory_working_get", {"key": "current_task"})
        assert one.data["item"]["value"] == {"goal": "tests"}
        every = await call(client, "memory_working_get")
        assert [item["key"] for item in every.data["items"]] == ["current_task"]

        context = await call(client, "memory_context", {"max_tokens": 40, "since": "1h"})
        assert not context.is_error, context.text
        summary, markdown = context.texts
        assert markdown == context.data["context"]
        # The exact budget: counted over the whole text, never above max_tokens.
        assert context.data["token_count"] == count_tokens(markdown) <= 40
        assert f"{context.data['token_count']} tokens of 40 allowed" in summary
        assert "Use refresh-token rotation" in markdown

        snapshot = await call(
            client,
            "memory_snapshot",
            {
                "files_modified": ["app/auth.py"],
                "key_decisions": ["Refresh-token rotation"],
                "open_tasks": ["Write tests for /login"],
                "event": "pre_compact",
                "project_path": "/Users/dev/app",
            },
        )
        assert snapshot.data["snapshot"]["event"] == "pre_compact"
        assert snapshot.data["snapshot"]["session_id"] == session_id

        extended = await call(client, "memory_extend", {"hours": 2})
        assert 3600 + 7190 <= extended.data["session"]["seconds_left"] <= 3600 + 7200

        briefing = await call(client, "memory_briefing")
        assert briefing.data["agent_id"] == "claude-code"
        assert [t["task"] for t in briefing.data["open_threads"]] == ["Write tests for /login"]
        assert session_id in [s["id"] for s in briefing.data["active_sessions"]]
        assert len(briefing.data["recent_activity"]) == 2

        committed = await call(client, "memory_session_commit", {"importance_threshold": 0.5})
        assert committed.data["created_keys"] == ["current_task"]
        again = await call(client, "memory_session_commit")
        assert again.data["memories_created"] == 0 and again.data["memories_deduplicated"] == 1

        ended = await call(client, "memory_session_end", {"commit": True})
        assert ended.data["session"]["status"] == "closed"
        assert ended.data["commit"]["memories_created"] == 0  # already committed
        after = await call(client, "memory_session_status")
        assert after.data["session"] is None  # the connection has no current session now
        needs = await call(client, "memory_snapshot", {"open_tasks": ["x"]})
        assert needs.is_error and "argument 'session_id'" in needs.text
        explicit = await call(client, "memory_session_status", {"session_id": session_id})
        assert explicit.data["session"]["status"] == "closed"
        assert explicit.data["working_memory_keys"] == ["current_task"]
        assert explicit.data["snapshot_count"] == 1
        assert "Traceback" not in errlog.read()

    # What the agent wrote is in the store, as any front end reads it.
    store = _store(sqlite_url)
    try:
        stored = store.get_session(session_id)
        assert stored.status == "closed" and stored.agent_id == "claude-code"
        from memtui.domain.models import MemoryQuery

        contents = {
            m.content for m in store.list_memories(MemoryQuery(session_id=session_id)).memories
        }
        assert "Use refresh-token rotation: stolen tokens expire" in contents
        assert store.get_working_memory(session_id, "current_task").version == 2
        assert store.list_snapshots(session_id)[0].open_tasks == ["Write tests for /login"]
    finally:
        store.close()


BAD_CALLS = [
    ("memory_remember", {}, "argument 'content' is required"),
    ("memory_remember", {"content": "x", "importnce": 0.9}, "unknown argument 'importnce'"),
    ("memory_remember", {"content": "x", "importance": "high"}, "argument 'importance'"),
    ("memory_remember", {"content": "x", "importance": 1.5}, "argument 'importance'"),
    ("memory_remember", {"content": "x", "tags": "auth"}, "argument 'tags'"),
    ("memory_remember", {"content": "x", "type": "not a type"}, "argument 'type'"),
    ("memory_remember", {"content": 42}, "argument 'content'"),
    ("memory_remember", {"content": "a\x00b"}, "argument 'content'"),
    ("memory_session_start", {"ttl_seconds": 5}, "argument 'ttl_seconds'"),
    ("memory_session_start", {"ttl_seconds": "soon"}, "argument 'ttl_seconds'"),
    ("memory_extend", {}, "argument 'hours' is required"),
    ("memory_extend", {"hours": 0}, "argument 'hours'"),
    ("memory_extend", {"hours": 1, "session_id": "sess_nope"}, "sess_nope"),
    ("memory_context", {"since": "yesterdayish"}, "argument 'since'"),
    ("memory_context", {"max_tokens": 0}, "argument 'max_tokens'"),
    ("memory_snapshot", {"event": "lunch"}, "argument 'event'"),
    ("memory_snapshot", {"open_tasks": [""]}, "argument 'open_tasks[0]'"),
    ("memory_recall", {"query": ""}, "argument 'query'"),
    ("memory_recall", {"query": "x", "limit": 1000}, "argument 'limit'"),
    ("memory_working_get", {"key": "nope"}, "nope"),
    ("memory_working_set", {"key": "k"}, "argument 'value' is required"),
    ("memory_session_commit", {"importance_threshold": 2}, "argument 'importance_threshold'"),
    ("memory_briefing", {"lookback_hours": -1}, "argument 'lookback_hours'"),
    ("memory_session_status", {"session_id": 7}, "argument 'session_id'"),
    ("no_such_tool", {}, "no such tool"),
]


async def test_bad_arguments_are_tool_errors_naming_them_and_the_server_goes_on(
    sqlite_url: str,
) -> None:
    async with stdio_client_for(sqlite_url) as (client, errlog):
        started = await call(client, "memory_session_start")
        session_id = started.data["session"]["id"]
        for tool, arguments, expected in BAD_CALLS:
            result = await call(client, tool, arguments)
            assert result.is_error, (tool, arguments, result.text)
            assert expected in result.text, (tool, arguments, result.text)
            assert len(result.texts) == 1 and "\n" not in result.texts[0], result.text
            assert "Traceback" not in result.text and "pydantic" not in result.text
        # Still serving, with the same current session; nothing was half-written.
        status = await call(client, "memory_session_status")
        assert status.data["session"]["id"] == session_id
        assert status.data["memory_count"] == 0
        assert "Traceback" not in errlog.read()


async def test_hostile_text_is_stored_and_returned_exactly(sqlite_url: str) -> None:
    async with stdio_client_for(sqlite_url, client_name="claude-code") as (client, errlog):
        await call(client, "memory_session_start")
        short = [text for text in STORABLE_STRINGS if len(text) <= 200]  # tag/key limit
        for text in STORABLE_STRINGS:
            tags = [text] if text in short else []
            stored = await call(client, "memory_remember", {"content": text, "tags": tags})
            assert not stored.is_error, (text, stored.text)
            assert stored.data["memory"]["content"] == text
            assert stored.data["memory"]["tags"] == tags
        for text in short:
            key = await call(client, "memory_working_set", {"key": text, "value": {text: [text]}})
            assert not key.is_error, (text, key.text)
        snapshot = await call(client, "memory_snapshot", {"key_decisions": list(STORABLE_STRINGS)})
        assert snapshot.data["snapshot"]["key_decisions"] == list(STORABLE_STRINGS)
        items = (await call(client, "memory_working_get")).data["items"]
        assert {item["key"] for item in items} == set(short)
        assert all(item["value"] == {item["key"]: [item["key"]]} for item in items)
        context = await call(client, "memory_context")
        for text in ISSUE_STRINGS:
            if text in STORABLE_STRINGS:
                assert text in context.data["context"]
        # JSON nested as deep as a store keeps is fine; deeper is refused by name.
        ok = await call(client, "memory_working_set", {"key": "deep", "value": deep_json(60)})
        assert not ok.is_error, ok.text
        refused = await call(
            client, "memory_working_set", {"key": "deeper", "value": deep_json(90)}
        )
        assert refused.is_error and "argument 'value'" in refused.text
        beyond = await call(
            client, "memory_working_set", {"key": "deepest", "value": deep_json(150)}
        )
        assert beyond.is_error and "nested more than 100 levels" in beyond.text
        assert (await call(client, "memory_session_status")).data["session"] is not None
        assert "Traceback" not in errlog.read()


def test_a_message_nested_beyond_any_parser_gets_an_answer(sqlite_url: str) -> None:
    """Raw JSON-RPC on the pipe, as a client that does not check depth would send it:
    100,000 levels (built as text). The SDK alone would drop it without a reply."""
    process = subprocess.Popen(
        mcp_command(sqlite_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    assert process.stdin is not None and process.stdout is not None

    def send(text: str) -> None:
        process.stdin.write(text.encode() + b"\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]

    def receive() -> dict[str, Any]:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no reply within 60 s"
        return json.loads(process.stdout.readline())  # type: ignore[union-attr]

    try:
        send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "1"},
                    },
                }
            )
        )
        assert receive()["result"]["serverInfo"]["name"] == "memtui"
        send('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        deep = deep_json_text(100_000)
        send(
            '{"jsonrpc":"2.0","id":"deep-1","method":"tools/call","params":{"name":'
            f'"memory_working_set","arguments":{{"key":"k","value":{deep}}}}}}}'
        )
        reply = receive()
        assert reply["id"] == "deep-1"
        assert reply["result"]["isError"] is True
        assert "nested more than 100 levels" in reply["result"]["content"][0]["text"]
        send(f'{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{deep}}}')
        assert receive()["error"]["code"] == -32600
        send(
            '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"memory_session_status","arguments":{}}}'
        )
        assert receive()["result"]["structuredContent"]["session"] is None
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        stderr = process.stderr.read().decode() if process.stderr else ""
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


async def test_agent_option_and_a_hostile_client_name(sqlite_url: str) -> None:
    async with stdio_client_for(sqlite_url, "--agent", "reviewer") as (client, _):
        started = await call(client, "memory_session_start")
        assert started.data["session"]["agent_id"] == "reviewer"
    # A client name is stored as an agent: its control characters are made visible.
    async with stdio_client_for(sqlite_url, client_name="evil\x1b]0;TITLE\x07") as (client, _):
        started = await call(client, "memory_session_start")
        assert started.data["session"]["agent_id"] == "evil␛]0;TITLE␇"
        memory = await call(client, "memory_remember", {"content": "x"})
        assert memory.data["memory"]["agent_id"] == "evil␛]0;TITLE␇"


def test_bad_store_and_options_are_one_line_exit_2(tmp_path: Any) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "memtui", "mcp", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    cases = [
        (("--db", "bogus://"), "invalid database URL"),
        (("--db", f"sqlite:///{tmp_path}/a.db", "--port", "9"), "--http only"),
        (("--db", f"sqlite:///{tmp_path}/a.db", "--agent", " "), "--agent"),
        (("--db", f"sqlite:///{tmp_path}/a.db", "--http", "--port", "70000"), "not a port"),
    ]
    for args, expected in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""
