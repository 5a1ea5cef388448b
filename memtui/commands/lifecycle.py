"""`memtui new AGENT`, `memtui extend SESSION [DURATION]`, `memtui close SESSION`: the
session list's actions on the command line.

`new` prints the new session's id alone on stdout (so `SID=$(memtui new claude)` works)
and a readable line on stderr; `--json` prints the session. `extend` adds DURATION
(default 6h) to the expiry, as the TUI's extend does. `close` says so when the session
was already closed and nothing changed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memtui.commands.output import CommandError, Printer, local_time, note, run_command

if TYPE_CHECKING:
    from datetime import timedelta

    from memtui.backend import Backend
    from memtui.domain.models import Session

NEVER = "never"


def _ttl(text: str | None) -> timedelta | None:
    from memtui.domain.models import DEFAULT_SESSION_TTL
    from memtui.domain.timewindow import parse_duration

    if text is None:
        return DEFAULT_SESSION_TTL
    if text.strip().lower() == NEVER:
        return None
    ttl = parse_duration(text, field="--ttl")
    if ttl.total_seconds() <= 0:
        raise CommandError(f"--ttl {text!r} must be longer than zero (or 'never')")
    return ttl


def _session_json(session: Session, backend: Backend) -> dict[str, object]:
    from memtui.domain.views import session_view

    return session_view(session, backend.now())


def _expiry(session: Session, backend: Backend) -> str:
    from memtui.domain.expiry import format_time_left

    if session.expires_at is None:
        return "never expires"
    left = format_time_left(session, backend.now())
    return f"expires {local_time(session.expires_at)} ({left} left)"


def run_new_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        ttl = _ttl(args.ttl)
        session = backend.create_session(args.agent, workspace_id=args.workspace, ttl=ttl)
        if args.json:
            printer.json(_session_json(session, backend))
            return 0
        printer.write(printer.line(session.id))
        note(
            "new",
            f"created session {session.id} for agent {session.agent_id}, "
            + _expiry(session, backend),
        )
        return 0

    return run_command("new", args, work)


def run_extend_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        from memtui.domain.expiry import format_duration
        from memtui.domain.timewindow import parse_duration

        by = parse_duration(args.duration, field="DURATION")
        if by.total_seconds() <= 0:
            raise CommandError(f"DURATION {args.duration!r} must be longer than zero")
        session = backend.extend_session(args.session_id, by)
        if args.json:
            printer.json(_session_json(session, backend))
        else:
            printer.write(
                f"extended {printer.line(session.id)} by {format_duration(by)}: "
                f"{_expiry(session, backend)}"
            )
        return 0

    return run_command("extend", args, work)


def run_close_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        before = backend.get_session(args.session_id)
        if before.status == "closed":
            session = before
            message = f"{printer.line(session.id)} was already closed: nothing changed"
        else:
            session = backend.close_session(args.session_id)
            message = f"closed {printer.line(session.id)}"
        if args.json:
            data = _session_json(session, backend)
            data["changed"] = before.status != "closed"
            printer.json(data)
        else:
            printer.write(message)
        return 0

    return run_command("close", args, work)
