"""The `memtui` command line.

Only argparse and stdlib here at import time: `--version` and `--help` must stay fast,
so every subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from memtui import __version__


def _add_backend_options(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    """`default=argparse.SUPPRESS` on subcommands: otherwise a subcommand's default None
    would overwrite the value of `memtui --db URL <command>`."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=default,
        help="SQLAlchemy URL of the store (default: a SQLite file in your data directory; "
        "env MEMTUI_DB)",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        default=default,
        help="use a memtui/Memtrace server over HTTP instead of a local store (env MEMTUI_SERVER)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=default,
        help="API key for --server (env MEMTUI_API_KEY)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memtui",
        description="Inspect and manage what AI agents remember. "
        "With no command, opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"memtui {__version__}")
    _add_backend_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="fill the store with realistic demo data")
    _add_backend_options(demo, default=argparse.SUPPRESS)
    demo.add_argument(
        "--open", action="store_true", help="open the terminal UI on the store afterwards"
    )

    sessions = sub.add_parser("sessions", help="list sessions with their time left")
    _add_backend_options(sessions, default=argparse.SUPPRESS)
    sessions.add_argument("--agent", metavar="AGENT_ID", help="only this agent's sessions")
    sessions.add_argument(
        "--status", choices=["active", "closed", "expired"], help="only sessions in this state"
    )
    sessions.add_argument("--json", action="store_true", help="print JSON instead of a table")

    context = sub.add_parser(
        "context",
        help="print a session's LLM-ready context (markdown to stdout, token count to stderr)",
    )
    _add_backend_options(context, default=argparse.SUPPRESS)
    context.add_argument("session_id", metavar="SESSION_ID")
    context.add_argument("--since", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    context.add_argument("--until", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    context.add_argument("--types", help="comma-separated memory types to include")
    context.add_argument("--exclude-types", help="comma-separated memory types to exclude")
    context.add_argument("--max-tokens", type=int, metavar="N", help="exact token budget")
    context.add_argument("--order", choices=["asc", "desc"], default="desc")
    context.add_argument("--encoding", choices=["cl100k_base", "o200k_base"], default="cl100k_base")
    context.add_argument("--copy", action="store_true", help="also copy it to the clipboard")

    serve = sub.add_parser("serve", help="run the Memtrace-compatible HTTP server")
    serve.add_argument(
        "--db", metavar="URL", default=argparse.SUPPRESS, help="SQLAlchemy URL of the store"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    # Test double for clients' capability detection: only Memtrace v1, Memtrace's shapes.
    serve.add_argument("--plain-memtrace", action="store_true", help=argparse.SUPPRESS)

    keys = sub.add_parser("keys", help="manage the server's API keys")
    keys.add_argument(
        "--db", metavar="URL", default=argparse.SUPPRESS, help="SQLAlchemy URL of the store"
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_create = keys_sub.add_parser("create", help="create a key and print it once")
    keys_create.add_argument("--name", default="", help="a label to recognise the key by")
    keys_sub.add_parser("list", help="list keys (masked)")
    keys_revoke = keys_sub.add_parser("revoke", help="revoke a key")
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
