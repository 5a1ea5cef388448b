"""`memtui sessions`: list sessions with their time left.

A table for people (expiry shown in local time) or `--json` for scripts. Errors are one
line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from memtui.domain.errors import MemtuiError

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import Session

EXIT_ERROR = 2
T = TypeVar("T")


def open_backend_from_args(args: argparse.Namespace) -> Backend:
    """The backend `--db`/`--server`/env/config point at, on the (test-settable) clock."""
    from memtui.connect import open_backend, resolve_target
    from memtui.domain.clock import clock_from_environment

    target = resolve_target(
        getattr(args, "db", None),
        getattr(args, "server", None),
        getattr(args, "api_key", None),
        getattr(args, "backend", None),
    )
    return open_backend(target, clock=clock_from_environment())


def run_with_backend(
    command: str, args: argparse.Namespace, work: Callable[[Backend], T]
) -> T | int:
    """Open the backend, run `work`, close it; any failure becomes one stderr line and
    exit code 2 (130 on Ctrl-C)."""
    try:
        backend = open_backend_from_args(args)
        try:
            return work(backend)
        finally:
            backend.close()
    except MemtuiError as exc:
        print(f"memtui {command}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # `memtui sessions | head`: the CLI's entry point ends quietly
    except Exception as exc:  # never a traceback for the user; say what broke
        print(f"memtui {command}: unexpected error ({type(exc).__name__}: {exc})", file=sys.stderr)
    return EXIT_ERROR


def _local(value: datetime | None) -> str:
    return "never" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def session_rows(
    sessions: list[Session], now: datetime, agent_names: dict[str, str] | None = None
) -> list[list[str]]:
    from memtui.domain.expiry import format_time_left

    names = agent_names or {}
    return [
        [
            names.get(session.agent_id, session.agent_id),
            session.id,
            session.effective_status(now).value,
            format_time_left(session, now),
            _local(session.expires_at) if session.status != "closed" else "-",
        ]
        for session in sessions
    ]


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def run_sessions_command(args: argparse.Namespace) -> int:
    def work(backend: Backend) -> int:
        now = backend.now()
        sessions = backend.list_sessions(agent_id=args.agent, status=args.status)
        if args.json:
            payload = {
                "sessions": [s.to_json(now) for s in sessions],
                "count": len(sessions),
            }
            for item, session in zip(payload["sessions"], sessions, strict=True):
                left = session.time_left(now)
                item["seconds_left"] = None if left is None else int(left.total_seconds())
            print(json.dumps(payload, indent=2))
            return 0
        if not sessions:
            which = f" {args.status}" if args.status else ""
            whose = f" for agent {args.agent!r}" if args.agent else ""
            print(f"No{which} sessions{whose} in {backend.describe()}.")
            return 0
        from memtui.commands.output import Printer

        headers = ["AGENT", "SESSION", "STATUS", "TIME LEFT", "EXPIRES (local)"]
        names = {agent.id: agent.name for agent in backend.list_agents()}
        # Stored names and ids: escape sequences shown, not obeyed, on a terminal.
        printer = Printer()
        rows = [[printer.line(cell) for cell in row] for row in session_rows(sessions, now, names)]
        printer.write(render_table(headers, rows))
        return 0

    return int(run_with_backend("sessions", args, work))
