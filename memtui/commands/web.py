"""`memtui web`: the terminal UI in a browser, served by textual-serve.

Every browser tab gets its own `memtui` process on the same store or server. The store
and server options reach those processes through the environment (MEMTUI_DB,
MEMTUI_SERVER, MEMTUI_API_KEY), never their command line, so an API key does not show
in `ps`. It listens on 127.0.0.1 unless told otherwise, and warns when told otherwise:
the page has no login of its own, so whoever reaches the port reads and edits the
agents' memory.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys

from memtui.commands.output import fail, note

TITLE = "memtui"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command() -> str:
    """The command each browser tab runs: this Python, this memtui."""
    return f"{shlex.quote(sys.executable)} -m memtui"


def app_environment(args: argparse.Namespace) -> dict[str, str]:
    """The store/server options, as the variables the tab's memtui reads."""
    env: dict[str, str] = {}
    for option, variable in (("db", "MEMTUI_DB"), ("server", "MEMTUI_SERVER")):
        value = getattr(args, option, None)
        if value:
            env[variable] = value
    api_key = getattr(args, "api_key", None)
    if api_key:
        env["MEMTUI_API_KEY"] = api_key
    return env


def run_web_command(args: argparse.Namespace) -> int:
    host: str = args.host
    port: int = args.port
    if not 0 < port < 65536:
        return fail("web", f"--port must be from 1 to 65535, got {port}")
    if args.db and args.server:
        return fail("web", "give --db or --server, not both")
    try:
        from textual_serve.server import Server
    except ImportError:
        return fail("web", "textual-serve is not installed (pip install textual-serve)")
    if not is_loopback(host):
        note(
            "web",
            f"warning: listening on {host}, not only this machine. The page has no login: "
            "anyone who can reach the port can read and change your agents' memory.",
        )
    os.environ.update(app_environment(args))
    server = Server(app_command(), host=host, port=port, title=TITLE)
    try:
        server.serve()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return fail("web", f"cannot listen on {host}:{port}: {reason}")
    except KeyboardInterrupt:
        return 0
    return 0
