"""`memtui mcp`: the tools of `memtui.mcp.tools` served with the official MCP SDK's
low-level `Server`, over stdio or streamable HTTP, on any Backend.

Why the low-level server: the tool list is data (argument models, descriptions, the
backend's capabilities decide which tools exist), and every bad argument must come back
as a tool error that names it in one line, not as pydantic's multi-line report.

Per call: the arguments are checked against the tool's model (unknown ones refused), the
connection's state is found, and the tool runs in a worker thread inside
`acting_as("mcp:<client name>")`, with the context copied into the thread so the actor
reaches the backend call. Whatever goes wrong becomes a tool error; the server goes on.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import mcp.types as types
from mcp.server import Server, ServerRequestContext
from pydantic import ValidationError

from memtui import __version__
from memtui.domain.actor import acting_as, run_in_context
from memtui.domain.errors import InvalidInputError, MemtuiError, UnsupportedError
from memtui.domain.safe_text import visible_line
from memtui.mcp.tools import (
    TOOLS,
    TOOLS_BY_NAME,
    ConnectionState,
    ToolArgumentError,
    ToolContext,
    ToolOutput,
    ToolSpec,
    argument_for,
)

if TYPE_CHECKING:
    from memtui.backend import Backend

log = logging.getLogger("memtui.mcp")

MCP_PATH = "/mcp"
MAX_CLIENT_NAME = 100
MAX_HTTP_CONNECTIONS = 10_000  # the SDK's own default cap on streamable-HTTP sessions

INSTRUCTIONS = (
    "memtui keeps this agent's memory. At the start of a task call memory_session_start, "
    "then memory_briefing to pick up open tasks and recent work, and memory_recall to look "
    "up what was decided before. While working, store decisions and lessons with "
    "memory_remember and short-term state with memory_working_set. Before the context "
    "window is compacted call memory_snapshot with event 'pre_compact'. At the end call "
    "memory_session_end."
)


def client_name_of(ctx: ServerRequestContext[Any, Any]) -> str:
    """The MCP client's name from its clientInfo, made safe to store and show: control
    characters made visible, cut to 100 characters; `unknown` if it gave none."""
    params = ctx.session.client_params
    name = params.client_info.name if params is not None and params.client_info else ""
    name = visible_line(name.strip())[:MAX_CLIENT_NAME]
    return name or "unknown"


def actor_for(client_name: str) -> str:
    return f"mcp:{client_name}"


class ConnectionStates:
    """Finds the state of the connection a request came on.

    - stdio: one process serves one client, so there is exactly one state.
    - streamable HTTP, handshake era: one state per `Mcp-Session-Id` (the SDK gives
      every initialized connection one), at most 10,000, least recently used dropped.
    - streamable HTTP, 2026-07-28: each request stands alone (no session id), so there
      is no state; the tools then need an explicit session_id and say so.
    """

    def __init__(self, *, single: bool) -> None:
        self._single = ConnectionState() if single else None
        self._by_session: OrderedDict[str, ConnectionState] = OrderedDict()

    def for_request(self, ctx: ServerRequestContext[Any, Any]) -> ConnectionState | None:
        if self._single is not None:
            return self._single
        headers: Mapping[str, str] | None = getattr(ctx.request, "headers", None)
        session_id = headers.get("mcp-session-id") if headers is not None else None
        if not session_id:
            return None
        state = self._by_session.get(session_id)
        if state is None:
            state = self._by_session[session_id] = ConnectionState()
            while len(self._by_session) > MAX_HTTP_CONNECTIONS:
                self._by_session.popitem(last=False)
        else:
            self._by_session.move_to_end(session_id)
        return state


def _error_result(
    tool: str, message: str, *, argument: str | None = None, data: dict[str, Any] | None = None
) -> types.CallToolResult:
    """`message` says everything (it names the argument); `argument` is for machines."""
    error: dict[str, Any] = {"message": message, **(data or {})}
    if argument:
        error["argument"] = argument
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"{tool}: {message}")],
        structured_content={"error": error},
        is_error=True,
    )


def _validation_message(spec: ToolSpec, error: ValidationError) -> tuple[str | None, str]:
    """One line naming the argument(s), never echoing the rejected values (they may be
    huge, or the caller's data)."""
    parts: list[str] = []
    first: str | None = None
    known = ", ".join(spec.arguments.model_fields) or "no arguments"
    for detail in error.errors(include_url=False, include_input=False):
        loc = [str(part) for part in detail.get("loc", ())]
        name = loc[0] if loc else ""
        first = first or name or None
        path = name + "".join(f"[{part}]" for part in loc[1:])
        kind = detail.get("type", "")
        if kind == "extra_forbidden":
            parts.append(f"unknown argument '{name}' (this tool takes: {known})")
        elif kind == "missing":
            parts.append(f"argument '{path}' is required")
        else:
            parts.append(f"argument '{path}': {detail.get('msg', 'invalid value')}")
    if not parts:
        parts.append("invalid arguments")
    return first, "; ".join(parts)


class MemtuiMcpServer:
    """The MCP server over one Backend. `stdio=True`: one connection per process."""

    def __init__(self, backend: Backend, *, agent: str | None = None, stdio: bool) -> None:
        self.backend = backend
        self.agent = agent
        self.states = ConnectionStates(single=stdio)
        capabilities = backend.capabilities()
        self.tools = [t for t in TOOLS if all(c in capabilities for c in t.requires)]
        self._offered = {t.name for t in self.tools}
        self.server: Server[Any] = Server(
            "memtui",
            version=__version__,
            title="memtui",
            description="Agent memory: sessions, memories, working memory, snapshots",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            get_tool_input_schema=self._input_schema,
        )

    # --- tools/list -------------------------------------------------------------------

    def tool_list(self) -> list[types.Tool]:
        return [
            types.Tool(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                input_schema=spec.input_schema(),
                annotations=types.ToolAnnotations(
                    title=spec.title,
                    read_only_hint=spec.read_only,
                    destructive_hint=spec.destructive,
                    idempotent_hint=spec.idempotent,
                    open_world_hint=False,
                ),
            )
            for spec in self.tools
        ]

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.tool_list())

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        spec = TOOLS_BY_NAME.get(name)
        return spec.input_schema() if spec is not None and name in self._offered else None

    # --- tools/call -------------------------------------------------------------------

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        name = params.name
        spec = TOOLS_BY_NAME.get(name)
        if spec is None:
            offered = ", ".join(sorted(self._offered))
            return _error_result(visible_line(name[:100]), f"no such tool (tools: {offered})")
        if name not in self._offered:
            return _error_result(
                name, f"{self.backend.describe()} does not support what this tool needs"
            )
        raw = params.arguments or {}
        try:
            arguments = spec.arguments.model_validate(raw)
        except ValidationError as error:
            argument, message = _validation_message(spec, error)
            return _error_result(name, message, argument=argument)

        client = client_name_of(ctx)
        tool_ctx = ToolContext(
            backend=self.backend,
            state=self.states.for_request(ctx),
            client_name=client,
            agent=self.agent,
        )
        try:
            with acting_as(actor_for(client)):
                output: ToolOutput = await anyio.to_thread.run_sync(
                    run_in_context(spec.run), tool_ctx, arguments
                )
        except ToolArgumentError as error:
            message = f"argument '{error.argument}': {error.message}"
            return _error_result(name, message, argument=error.argument, data=error.data)
        except InvalidInputError as error:
            argument = argument_for(spec, error)
            message = f"argument '{argument}': {error}" if argument else str(error)
            return _error_result(name, message, argument=argument)
        except UnsupportedError as error:
            return _error_result(name, f"not supported here: {error}")
        except MemtuiError as error:
            return _error_result(name, str(error))
        except Exception as error:  # the server goes on; the details go to the log
            log.exception("tool %s failed", name)
            return _error_result(name, f"internal error ({type(error).__name__}); see the log")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text) for text in output.texts()],
            structured_content=output.data,
        )

    # --- transports -------------------------------------------------------------------

    async def serve_stdio(self) -> None:
        from memtui.mcp.stdio import guarded_stdio

        async with guarded_stdio() as (read_stream, write_stream):
            await self.server.run(
                read_stream, write_stream, self.server.create_initialization_options()
            )

    def http_app(self, host: str) -> Any:
        """The streamable-HTTP ASGI app at /mcp; loopback hosts get the SDK's DNS
        rebinding protection (Host and Origin must be loopback)."""
        return self.server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)

    def serve_http(self, sock: socket.socket, host: str) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.http_app(host),
            log_level="warning",
            access_log=False,
            workers=1,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        server = uvicorn.Server(config)

        # Until uvicorn installs its own handlers a SIGTERM must still stop it (a
        # supervisor may stop us at once): it sets should_exit, which uvicorn checks
        # right after start-up. uvicorn re-raises the signal that stopped it once it is
        # done; this handler then makes that a clean return (exit 0), not a kill.
        def request_exit(*_: object) -> None:
            server.should_exit = True

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, request_exit)
        server.run(sockets=[sock])


def configure_logging() -> None:
    """Log lines to stderr only: on stdio, stdout carries the protocol."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("memtui mcp: %(levelname)s %(name)s: %(message)s"))
    for name in ("memtui", "mcp"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False
