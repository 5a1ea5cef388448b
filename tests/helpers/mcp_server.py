"""Real `memtui mcp` processes for tests, and the official MCP SDK client against them.

    async with stdio_client_for(db_url, client_name="claude-code") as (client, errlog):
        result = await call(client, "memory_session_start", {})

    with McpHttpServer(db_url) as server:          # `memtui mcp --http --port 0`
        async with Client(server.url, mode="legacy", client_info=...) as client: ...

`call` returns a `ToolCall` (is_error, the text blocks, the structured result). The
server's stderr goes to a file (`errlog.read()` / `server.output()`), which tests read to
prove nothing crashed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import Implementation

START_TIMEOUT_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ToolCall:
    is_error: bool
    texts: list[str]
    data: Any

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> ToolCall:
    result = await client.call_tool(tool, arguments or {})
    texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
    return ToolCall(bool(result.is_error), texts, result.structured_content)


def mcp_command(db_url: str | None, *extra: str) -> list[str]:
    """`memtui mcp --db URL …`; with db_url None, only `extra` (e.g. --server URL)."""
    store = ["--db", db_url] if db_url else []
    return [sys.executable, "-m", "memtui", "mcp", *store, *extra]


class ErrLog:
    """The server's stderr, in a file the test can read at any time."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="memtui-mcp-", suffix=".log")
        os.close(handle)
        self.path = Path(name)
        self.file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - the child writes
        self._final: str | None = None

    def read(self) -> str:
        """Everything written so far (also after close)."""
        if self._final is not None:
            return self._final
        self.file.flush()
        return self.path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self._final is None:
            self._final = self.read()
            self.file.close()
            self.path.unlink(missing_ok=True)


@asynccontextmanager
async def stdio_client_for(
    db_url: str | None,
    *extra: str,
    client_name: str = "pytest-agent",
    mode: str = "auto",
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[Client, ErrLog]]:
    """The SDK client on a fresh `memtui mcp --db URL` subprocess over stdio. `mode`:
    "auto" (the SDK's default: the 2026-07-28 protocol) or "legacy" (the initialize
    handshake clients such as Claude Code use today)."""
    errlog = ErrLog()
    params = StdioServerParameters(
        command=sys.executable,
        args=mcp_command(db_url, *extra)[1:],
        env=dict(env or os.environ),
    )
    try:
        transport = stdio_client(params, errlog=errlog.file)
        async with Client(
            transport,  # type: ignore[arg-type]
            mode=mode,
            read_timeout_seconds=CALL_TIMEOUT_SECONDS,
            client_info=Implementation(name=client_name, version="1.0"),
        ) as client:
            yield client, errlog
    finally:
        errlog.close()


def http_client(url: str, *, client_name: str = "pytest-agent", mode: str = "auto") -> Client:
    return Client(
        url,
        mode=mode,
        read_timeout_seconds=CALL_TIMEOUT_SECONDS,
        client_info=Implementation(name=client_name, version="1.0"),
    )


class McpHttpServer:
    """`memtui mcp --http` on 127.0.0.1 at a free port (the server picks it: --port 0,
    and says which on its start line)."""

    def __init__(self, db_url: str, *extra: str, env: dict[str, str] | None = None) -> None:
        self.db_url = db_url
        self.extra = extra
        self.env = dict(env or os.environ)
        self.errlog = ErrLog()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def output(self) -> str:
        return self.errlog.read()

    def start(self) -> McpHttpServer:
        command = mcp_command(self.db_url, "--http", "--port", "0", *self.extra)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self.errlog.file,
            stderr=self.errlog.file,
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"memtui mcp exited: {self.output()}")
            for line in self.output().splitlines():
                if "serving" in line and "http://" in line:
                    self.url = line.split("http://", 1)[1].split()[0]
                    self.url = "http://" + self.url
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"memtui mcp did not start: {self.output()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode

    def __enter__(self) -> McpHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.errlog.close()
