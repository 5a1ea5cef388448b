"""`memtui mcp`: serve memtui's MCP tools over stdio (default) or streamable HTTP.

    memtui mcp [--db URL | --server URL] [--agent NAME]
    memtui mcp --http [--host 127.0.0.1] [--port 9101]

On stdio, stdout carries the protocol: everything else (the start line, warnings, errors)
goes to stderr. Errors before serving are one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from typing import TYPE_CHECKING

from memtui.domain.errors import MemtuiError
from memtui.domain.safe_text import visible_line

if TYPE_CHECKING:
    from memtui.backend import Backend

EXIT_ERROR = 2
DEFAULT_HTTP_PORT = 9101


def _fail(message: str) -> int:
    print(f"memtui mcp: {visible_line(message)}", file=sys.stderr)
    return EXIT_ERROR


def _say(message: str) -> None:
    print(f"memtui mcp: {message}", file=sys.stderr, flush=True)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so `--port 0` gets a free port we can print."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        # Listening now, so a client that connects as soon as the start line is printed
        # waits in the backlog instead of being refused while uvicorn starts.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def run_mcp_command(args: argparse.Namespace) -> int:
    http = bool(args.http)
    if not http and (args.host is not None or args.port is not None):
        return _fail("--host and --port apply to --http only (stdio is the default)")
    host: str = "127.0.0.1" if args.host is None else args.host
    port: int = DEFAULT_HTTP_PORT if args.port is None else args.port
    if not 0 <= port <= 65535:
        return _fail(f"--port {port} is not a port number (0-65535)")
    agent = args.agent
    if agent is not None and not agent.strip():
        return _fail("--agent must not be empty")

    from memtui.commands.sessions import open_backend_from_args

    try:
        backend = open_backend_from_args(args)
    except MemtuiError as exc:
        return _fail(str(exc))
    except Exception as exc:  # never a traceback for the user; say what broke
        return _fail(f"cannot open the store ({type(exc).__name__}: {exc})")
    try:
        return _serve(backend, http=http, host=host, port=port, agent=agent)
    except KeyboardInterrupt:
        return 0
    finally:
        backend.close()


def _serve(backend: Backend, *, http: bool, host: str, port: int, agent: str | None) -> int:
    import anyio

    from memtui.mcp.server import MemtuiMcpServer, configure_logging

    configure_logging()
    try:
        server = MemtuiMcpServer(backend, agent=agent, stdio=not http)
    except MemtuiError as exc:
        return _fail(f"cannot use {backend.describe()}: {exc}")
    where = backend.describe()
    whose = f", agent {visible_line(agent)}" if agent else ""
    if not http:
        _say(f"serving {len(server.tools)} tools on stdio, store {where}{whose}")
        anyio.run(server.serve_stdio)
        return 0

    if not is_loopback(host):
        _say(
            f"WARNING: --host {visible_line(host)} is not a loopback address: anyone who can "
            "reach it can read and write this store, with no key. Use --host 127.0.0.1 "
            "unless you mean it."
        )
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        reason = (
            "is already in use" if exc.errno in (98, 48) else f"cannot be used ({exc.strerror})"
        )
        return _fail(f"cannot listen on {host}:{port}: the address {reason}")
    try:
        actual = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        _say(
            f"serving {len(server.tools)} tools on http://{shown}:{actual}/mcp "
            f"(streamable HTTP), store {where}{whose}"
        )
        server.serve_http(sock, host)
        _say("stopped")
        return 0
    finally:
        sock.close()
