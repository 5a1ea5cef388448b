"""The stdio transport, with one guard the SDK lacks: a message nested too deeply to parse.

The SDK parses each stdin line with pydantic, whose JSON parser stops at 200 levels; a
line it cannot parse is dropped without a reply, so the client that sent it waits
forever. An agent can send such a line by passing a deeply nested working-memory value.
This module reads stdin itself, answers any message nested deeper than
`MAX_MESSAGE_DEPTH` (a tool error for `tools/call`, a JSON-RPC error otherwise, with
the request's own id) and hands every other line to the SDK unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp.types as types
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

log = logging.getLogger("memtui.mcp")

# Deeper than any value a store keeps (64) plus the JSON-RPC envelope, well below the
# SDK parser's 200.
MAX_MESSAGE_DEPTH = 100
# Strings (skipped whole, escapes included) and brackets: all a depth scan needs.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def too_deep(line: str, limit: int = MAX_MESSAGE_DEPTH) -> bool:
    """True when the JSON text `line` nests containers more than `limit` levels."""
    if line.count("{") + line.count("[") <= limit:  # the common case: no scan
        return False
    depth = 0
    for match in _TOKEN.finditer(line):
        char = line[match.start()]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def shallow(line: str, keep: int = 3) -> str:
    """`line` with every container deeper than `keep` levels replaced by null, so the
    envelope (id, method, tool name) can be read with the stdlib parser."""
    parts: list[str] = []
    depth = 0
    resume = 0
    for match in _TOKEN.finditer(line):
        char = line[match.start()]
        if char in "[{":
            depth += 1
            if depth == keep + 1:
                parts.append(line[resume : match.start()])
                parts.append("null")
        elif char in "]}":
            if depth == keep + 1:
                resume = match.end()
            depth -= 1
    parts.append(line[resume:])
    return "".join(parts)


def refusal_for(line: str) -> types.JSONRPCMessage | None:
    """The reply to a too-deep request; None for a notification or unreadable text."""
    try:
        envelope = json.loads(shallow(line))
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, dict) or "id" not in envelope or "method" not in envelope:
        return None
    request_id = envelope["id"]
    if not isinstance(request_id, int | str) or isinstance(request_id, bool):
        return None
    method = envelope.get("method")
    params = envelope.get("params") if isinstance(envelope.get("params"), dict) else {}
    if method == "tools/call":
        tool = params.get("name") if isinstance(params.get("name"), str) else "tool"
        result = types.CallToolResult(
            content=[
                types.TextContent(
                    type="text",
                    text=f"{tool[:100]}: the arguments are nested more than "
                    f"{MAX_MESSAGE_DEPTH} levels deep; nothing was done",
                )
            ],
            is_error=True,
        )
        return types.JSONRPCResponse(
            jsonrpc="2.0",
            id=request_id,
            result=result.model_dump(by_alias=True, mode="json", exclude_none=True),
        )
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(
            code=types.INVALID_REQUEST,
            message=f"request nested more than {MAX_MESSAGE_DEPTH} levels deep",
        ),
    )


class _GuardedLines:
    """stdin as the SDK's reader wants it (`async for line in …`), minus the lines
    nested too deeply, which are answered here through the SDK's own write stream."""

    def __init__(self) -> None:
        text = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        self._source = anyio.wrap_file(text)
        self._lines: AsyncIterator[str] | None = None
        self.write_stream: Any = None
        self.ready = anyio.Event()

    def __aiter__(self) -> _GuardedLines:
        return self

    async def __anext__(self) -> str:
        if self._lines is None:
            self._lines = self._source.__aiter__()
        while True:
            line = await self._lines.__anext__()
            if not too_deep(line):
                return line
            reply = refusal_for(line)
            log.warning("refused a message nested more than %d levels deep", MAX_MESSAGE_DEPTH)
            if reply is not None:
                await self.ready.wait()
                await self.write_stream.send(SessionMessage(reply))


@asynccontextmanager
async def guarded_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """Like the SDK's `stdio_server()`, with the depth guard on stdin."""
    lines = _GuardedLines()
    async with stdio_server(stdin=lines) as (read_stream, write_stream):  # type: ignore[arg-type]
        lines.write_stream = write_stream
        lines.ready.set()
        yield read_stream, write_stream
