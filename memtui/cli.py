"""The `memtui` command line.

Only argparse and stdlib here at import time: `--version` and `--help` must stay fast,
so every subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from memtui import __version__


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr with exit code 2, like every other error:
    `memtui wm set: error: the following arguments are required: KEY (see memtui wm set
    --help)`. Subcommand parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
        "use a memtui, Memtrace or MemoryLayer server over HTTP instead of a local store "
        "(env MEMTUI_SERVER)",
    ),
    ("--api-key", "KEY", "API key for --server (env MEMTUI_API_KEY)"),
)
BACKEND_KINDS = ("auto", "memorylayer")  # memtui.connect.BACKEND_KINDS (not imported: fast)


def _add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """On the top-level parser the defaults are None; on every subcommand they are
    SUPPRESS, so a subcommand that was not given an option keeps what an earlier
    position set (`memtui --db URL sessions`) instead of overwriting it with None."""
    default = None if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("global options (before or after the command)")
    for flag, metavar, help_text in GLOBAL_OPTIONS:
        group.add_argument(flag, metavar=metavar, default=default, help=help_text)
    group.add_argument(
        "--backend",
        choices=BACKEND_KINDS,
        default=default,
        help="what --server is: auto (asks the server; default) or memorylayer "
        "(a MemoryLayer server) (env MEMTUI_BACKEND)",
    )
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


AddCommand = Callable[..., argparse.ArgumentParser]
FILTER_HELP = (
    "filter words, as in the timeline: type:decision,entity -type:session tag:auth "
    "event:error since:2h until:30m imp:0.5, and free text (case-insensitive)"
)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_pane_commands(add: AddCommand) -> None:
    """One command per TUI pane, for scripts and agents: every one takes --json and the
    global --db/--server options."""
    memories = add(
        "memories",
        help="list a session's (or an agent's) memories, newest first, with the timeline's filters",
        description="List memories newest first. Give a SESSION, or --agent for all of an "
        "agent's memories, then filter words as in the timeline. A negated word "
        "(-type:x) works anywhere.",
        epilog="example: memtui memories sess_1 type:decision -type:session since:2h login",
    )
    memories.add_argument(
        "words",
        nargs="*",
        metavar="SESSION|FILTER",
        help="the SESSION (unless --agent), then " + FILTER_HELP,
    )
    memories.add_argument("--agent", metavar="AGENT", help="all memories of this agent")
    memories.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (50)")
    memories.add_argument(
        "--after", metavar="CURSOR", help="continue after this cursor (next_cursor in --json)"
    )
    memories.add_argument(
        "--order", choices=["desc", "asc"], default="desc", help="desc: newest first"
    )
    _json_option(memories)

    search = add("search", help="find memories whose content contains QUERY")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--agent", metavar="AGENT", help="only this agent's memories")
    search.add_argument("--session", metavar="SESSION", help="only this session's memories")
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (20)")
    _json_option(search)

    wm = add("wm", help="list, read, write or delete a session's working memory")
    actions = _Commands(wm, "wm_command", metavar="ACTION", required=True)
    for name, help_text in (
        ("list", "list the keys with their versions and values"),
        ("get", "print a key's value as JSON"),
        ("set", "set a key to a JSON value (from VALUE, or stdin with '-' or no VALUE)"),
        ("rm", "delete a key"),
    ):
        action = actions.add(name, help=help_text)
        action.add_argument("session_id", metavar="SESSION")
        if name != "list":
            action.add_argument("key", metavar="KEY")
        if name == "set":
            action.add_argument(
                "value", nargs="?", metavar="VALUE|-", help="JSON; '-' or none: stdin"
            )
            action.add_argument("--importance", type=float, metavar="X", help="0 to 1")
        if name in ("set", "rm"):
            action.add_argument(
                "--expected-version",
                type=int,
                metavar="N",
                help="only if the key is at version N (0: only if it does not exist)",
            )
        _json_option(action)

    snapshots = add("snapshots", help="list a session's snapshots, newest first")
    snapshots.add_argument("session_id", metavar="SESSION")
    _json_option(snapshots)

    briefing = add("briefing", help="active sessions, open threads and recent activity")
    briefing.add_argument("--agent", metavar="AGENT", help="only this agent (default: all)")
    briefing.add_argument(
        "--lookback", default="24h", metavar="DURATION", help="recent activity window (24h)"
    )
    _json_option(briefing)

    extend = add("extend", help="add time to a session's expiry (default 6h)")
    extend.add_argument("session_id", metavar="SESSION")
    extend.add_argument(
        "duration", nargs="?", default="6h", metavar="DURATION", help="e.g. 6h, 30m, 1d"
    )
    _json_option(extend)

    close = add("close", help="close a session (its memories stay)")
    close.add_argument("session_id", metavar="SESSION")
    _json_option(close)

    new = add("new", help="start a session for AGENT and print its id")
    new.add_argument("agent", metavar="AGENT")
    new.add_argument(
        "--ttl", metavar="DURATION", help="time until it expires (default 6h; 'never')"
    )
    new.add_argument("--workspace", metavar="NAME", help="a workspace label for the session")
    _json_option(new)


def _add_mcp_command(add: AddCommand) -> None:
    mcp = add(
        "mcp",
        help="serve memtui's tools to agents over MCP (stdio, or streamable HTTP with --http)",
        description="Serve memtui's MCP tools on the store (--db) or server (--server). "
        "stdio by default, for clients that start it; --http for streamable HTTP.",
    )
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp")
    mcp.add_argument("--host", help="with --http: address to listen on (default 127.0.0.1)")
    mcp.add_argument("--port", type=int, help="with --http: port (default 9101; 0: any free)")
    mcp.add_argument(
        "--agent",
        metavar="NAME",
        help="agent new sessions and memories belong to (default: the MCP client's name)",
    )


def _add_history_commands(add: AddCommand) -> None:
    history = add(
        "history",
        help="the revisions of a memory, session, working-memory key or snapshot",
        description="Every create, update and delete of one object, oldest first: when, "
        "by whom (cli, tui, mcp:<client>, or the API key's name), and what changed.",
    )
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--memory", metavar="ID", help="a memory's history")
    which.add_argument("--session", metavar="ID", help="a session's history")
    which.add_argument(
        "--key", nargs=2, metavar=("SESSION", "KEY"), help="a working-memory key's history"
    )
    which.add_argument("--snapshot", metavar="ID", help="a snapshot's history")
    which.add_argument(
        "--compact",
        action="store_true",
        help="apply the retention now (a local store): compact history and empty the trash "
        "older than history_retention_days (default 30)",
    )
    _json_option(history)

    trash = add(
        "trash",
        help="deleted memories, sessions and keys (restore them with memtui restore)",
        description="List the trash, newest first, or purge from it for good.",
    )
    purge = trash.add_mutually_exclusive_group()
    purge.add_argument(
        "--purge", nargs="+", metavar="ID", help="purge these items (number or deleted id)"
    )
    purge.add_argument("--purge-all", action="store_true", help="empty the whole trash")
    _json_option(trash)

    restore = add(
        "restore",
        help="put a deleted memory, session or key back as it was",
        description="ID: a trash item's number, a memory or session id, or SESSION/KEY.",
    )
    restore.add_argument("item", metavar="ID")
    _json_option(restore)


def _add_transfer_commands(add: AddCommand) -> None:
    export = add(
        "export",
        help="write the store (or one agent's or session's data) as JSON Lines to stdout",
        description="Write agents, sessions, snapshots, working memory and memories as one "
        "JSON object per line, ids and times kept. Streams: constant memory at any size.",
        epilog="example: memtui export --agent claude-code > claude-code.jsonl",
    )
    scope = export.add_mutually_exclusive_group()
    scope.add_argument("--agent", metavar="AGENT", help="only this agent's data")
    scope.add_argument("--session", metavar="SESSION", help="only this session's data")

    imp = add(
        "import",
        help="read a memtui export (or a MemoryLayer workspace export) into the store",
        description="Import a file written by memtui export, or by MemoryLayer's workspace "
        "export. Every line is checked before anything is written; then records are "
        "written in batches, each all or nothing. Importing twice adds nothing.",
    )
    imp.add_argument("file", metavar="FILE", help="the file to read ('-': stdin)")
    imp.add_argument(
        "--batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="records written per transaction (1000)",
    )
    _json_option(imp)

    web = add(
        "web",
        help="serve the terminal UI in a web browser (textual-serve)",
        description="Serve the memtui terminal UI to browsers. Each browser tab runs its "
        "own memtui on the same store or server. Listens on 127.0.0.1 unless told "
        "otherwise: anyone who can reach the port can read and change your agents' memory.",
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    web.add_argument("--port", type=int, default=8566, help="port (8566)")


# command -> "module:function", imported only when that command runs
_RUNNERS = {
    "demo": "memtui.commands.demo:run_demo_command",
    "sessions": "memtui.commands.sessions:run_sessions_command",
    "context": "memtui.commands.context:run_context_command",
    "context-diff": "memtui.commands.context_diff:run_context_diff_command",
    "memories": "memtui.commands.memories:run_memories_command",
    "search": "memtui.commands.search:run_search_command",
    "wm": "memtui.commands.wm:run_wm_command",
    "snapshots": "memtui.commands.snapshots:run_snapshots_command",
    "briefing": "memtui.commands.briefing:run_briefing_command",
    "extend": "memtui.commands.lifecycle:run_extend_command",
    "close": "memtui.commands.lifecycle:run_close_command",
    "new": "memtui.commands.lifecycle:run_new_command",
    "mcp": "memtui.commands.mcp:run_mcp_command",
    "export": "memtui.commands.export_store:run_export_command",
    "import": "memtui.commands.import_store:run_import_command",
    "web": "memtui.commands.web:run_web_command",
    "serve": "memtui.commands.serve:run_serve_command",
    "keys": "memtui.commands.keys:run_keys_command",
    "history": "memtui.commands.history:run_history_command",
    "trash": "memtui.commands.trash:run_trash_command",
    "restore": "memtui.commands.trash:run_restore_command",
    None: "memtui.commands.tui:run_tui_command",
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    context.add_argument(
        "--explain",
        action="store_true",
        help="why each memory is in or out, tokens per section, what a larger budget adds",
    )
    context.add_argument("--json", action="store_true", help="with --explain: print JSON")
    context.add_argument(
        "--as-of",
        metavar="TIME",
        help="the context as it was then, from history (relative such as 2h, or ISO 8601)",
    )

    diff = commands.add(
        "context-diff",
        help="compare a session's context at two times, budgets or encodings "
        "(also spelled: memtui context diff)",
        description="Which memories entered and left the context, and the tokens per "
        "section, between --from and --to (default: now), or between two budgets or "
        "encodings at one time.",
    )
    diff.add_argument("session_id", metavar="SESSION_ID")
    diff.add_argument("--from", dest="from_time", metavar="T1", help="the earlier time")
    diff.add_argument("--to", dest="to_time", metavar="T2", help="the later time (default: now)")
    diff.add_argument("--max-tokens", type=int, metavar="N", help="the budget (both sides)")
    diff.add_argument("--to-max-tokens", type=int, metavar="N", help="the later side's budget")
    diff.add_argument("--encoding", choices=["cl100k_base", "o200k_base"], default="cl100k_base")
    diff.add_argument(
        "--to-encoding", choices=["cl100k_base", "o200k_base"], help="the later side's encoding"
    )
    diff.add_argument("--since", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    diff.add_argument("--until", help="relative (30m, 2h, 7d, 1w) or ISO 8601")
    diff.add_argument("--types", help="comma-separated memory types to include")
    diff.add_argument("--exclude-types", help="comma-separated memory types to exclude")
    diff.add_argument("--order", choices=["asc", "desc"], default="desc")
    diff.add_argument("--json", action="store_true", help="print JSON")

    _add_pane_commands(commands.add)
    _add_history_commands(commands.add)
    _add_mcp_command(commands.add)
    _add_transfer_commands(commands.add)

    serve = commands.add("serve", help="run the Memtrace-compatible HTTP server on a local store")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    serve.add_argument(
        "--max-event-streams",
        type=int,
        metavar="N",
        help="open /events streams allowed at once; more get 503 with Retry-After (default 200)",
    )
    serve.add_argument(
        "--read-timeout",
        type=float,
        metavar="SECONDS",
        help="a request (head and body) must arrive within this, else 408 and the "
        "connection is closed (default 15)",
    )
    # Test double for clients' capability detection: only Memtrace v1, Memtrace's shapes.

    keys = commands.add("keys", help="manage the server's API keys (in a local store)")
    actions = _Commands(keys, "keys_command", metavar="ACTION", required=True)
    keys_create = actions.add("create", help="create a key and print it once")
    keys_create.add_argument("--name", default="", help="a label to recognise the key by")
    actions.add("list", help="list keys (masked)")
    keys_revoke = actions.add("revoke", help="revoke a key")
    keys_revoke.add_argument("key_id", metavar="KEY_ID")
    return parser


_VALUE_OPTIONS = frozenset({"--db", "--server", "--api-key"})


def _spell_context_diff(argv: Sequence[str]) -> list[str]:
    """`memtui context diff S …` is `memtui context-diff S …` (a session id cannot be
    both: `context` takes one positional)."""
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word in _VALUE_OPTIONS:
            index += 2
            continue
        if word.startswith("-"):
            index += 1
            continue
        if word == "context" and index + 1 < len(words) and words[index + 1] == "diff":
            return [*words[:index], "context-diff", *words[index + 2 :]]
        return words
    return words


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = _spell_context_diff(sys.argv[1:] if argv is None else argv)
    args, extras = parser.parse_known_args(argv)
    if extras:
        # `memtui memories S -type:session`: argparse takes a negated filter word for an
        # unknown option; anywhere else an unknown argument is an error.
        words = None
        if args.command == "memories":
            from memtui.commands.memories import filter_words_from_extras

            words = filter_words_from_extras(extras)
        if words is None:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        args.words = [*args.words, *words]
    try:
        return _run(args)
    except BrokenPipeError:
        # The reader closed the pipe (`memtui sessions | head`): not an error. Point
        # stdout at /dev/null so the interpreter's final flush stays quiet too.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    import importlib

    module_name, function_name = _RUNNERS[args.command].split(":")
    run: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module_name), function_name
    )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
