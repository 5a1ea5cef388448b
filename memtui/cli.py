"""The `memtui` command line.

Only argparse and stdlib here at import time: `--version` and `--help` must stay fast,
so every subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from memtui import __version__

# The options every command takes, before or after the command name (`memtui --db URL
# keys create`, `memtui keys --db URL create` and `memtui keys create --db URL` are one).
GLOBAL_OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "--db",
        "URL",
        "SQLAlchemy URL of the store (default: a SQLite file in your data directory; "
        "env MEMTUI_DB)",
    ),
    (
        "--server",
        "URL",
        "use a memtui/Memtrace server over HTTP instead of a local store (env MEMTUI_SERVER)",
    ),
    ("--api-key", "KEY", "API key for --server (env MEMTUI_API_KEY)"),
)


def _add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """On the top-level parser the defaults are None; on every subcommand they are
    SUPPRESS, so a subcommand that was not given an option keeps what an earlier
    position set (`memtui --db URL sessions`) instead of overwriting it with None."""
    default = None if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("global options (before or after the command)")
    for flag, metavar, help_text in GLOBAL_OPTIONS:
        group.add_argument(flag, metavar=metavar, default=default, help=help_text)
    group.add_argument(
        "--version",
        action="version",
        version=f"memtui {__version__}",
        help="print the version and exit",
    )


class _Commands:
    """Adds subcommands that all take the global options."""

    def __init__(self, parent: argparse.ArgumentParser, dest: str, **kwargs: object) -> None:
        self._sub = parent.add_subparsers(dest=dest, **kwargs)  # type: ignore[arg-type]

    def add(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        parser = self._sub.add_parser(name, **kwargs)  # type: ignore[arg-type]
        _add_global_options(parser, top_level=False)
        return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memtui",
        description="Inspect and manage what AI agents remember. "
        "With no command, opens the terminal UI.",
    )
    _add_global_options(parser, top_level=True)
    commands = _Commands(parser, "command", metavar="COMMAND")

    demo = commands.add("demo", help="fill the store with realistic demo data")
    demo.add_argument(
        "--open", action="store_true", help="open the terminal UI on the store afterwards"
    )

    sessions = commands.add("sessions", help="list sessions with their time left")
    sessions.add_argument("--agent", metavar="AGENT_ID", help="only this agent's sessions")
    sessions.add_argument(
        "--status", choices=["active", "closed", "expired"], help="only sessions in this state"
    )
    sessions.add_argument("--json", action="store_true", help="print JSON instead of a table")

    context = commands.add(
        "context",
        help="print a session's LLM-ready context (markdown to stdout, token count to stderr)",
    )
    context.add_argument("session_id", metavar="SESSION_ID")
    context.add_argument("--since", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    context.add_argument("--until", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    context.add_argument("--types", help="comma-separated memory types to include")
    context.add_argument("--exclude-types", help="comma-separated memory types to exclude")
    context.add_argument("--max-tokens", type=int, metavar="N", help="exact token budget")
    context.add_argument("--order", choices=["asc", "desc"], default="desc")
    context.add_argument("--encoding", choices=["cl100k_base", "o200k_base"], default="cl100k_base")
    context.add_argument("--copy", action="store_true", help="also copy it to the clipboard")

    serve = commands.add("serve", help="run the Memtrace-compatible HTTP server on a local store")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    # Test double for clients' capability detection: only Memtrace v1, Memtrace's shapes.
    serve.add_argument("--plain-memtrace", action="store_true", help=argparse.SUPPRESS)

    keys = commands.add("keys", help="manage the server's API keys (in a local store)")
    actions = _Commands(keys, "keys_command", metavar="ACTION", required=True)
    keys_create = actions.add("create", help="create a key and print it once")
    keys_create.add_argument("--name", default="", help="a label to recognise the key by")
    actions.add("list", help="list keys (masked)")
    keys_revoke = actions.add("revoke", help="revoke a key")
    keys_revoke.add_argument("key_id", metavar="KEY_ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        # The reader closed the pipe (`memtui sessions | head`): not an error. Point
        # stdout at /dev/null so the interpreter's final flush stays quiet too.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    command = args.command
    if command == "demo":
        from memtui.commands.demo import run_demo_command

        return run_demo_command(args)
    if command == "sessions":
        from memtui.commands.sessions import run_sessions_command

        return run_sessions_command(args)
    if command == "context":
        from memtui.commands.context import run_context_command

        return run_context_command(args)
    if command == "serve":
        from memtui.server.cli import run_serve_command

        return run_serve_command(args)
    if command == "keys":
        from memtui.server.cli import run_keys_command

        return run_keys_command(args)
    from memtui.commands.tui import run_tui_command

    return run_tui_command(args)


if __name__ == "__main__":
    sys.exit(main())
