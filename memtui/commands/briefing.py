"""`memtui briefing [--agent A] [--lookback DURATION]`: the briefing pane on the
command line: active sessions with their time left, those expiring within the hour, the
open tasks of each session's latest snapshot, and recent memories."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memtui.commands.output import Printer, local_time, run_command, table

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import Briefing

RECENT_SHOWN = 20


def _json(briefing: Briefing, backend: Backend, total: int) -> dict[str, object]:
    from memtui.domain.views import session_view

    now = backend.now()
    data = briefing.to_json(now)
    data["recent_activity_total"] = total
    data["active_sessions"] = [session_view(s, now) for s in briefing.active_sessions]
    data["expiring_soon"] = [session_view(s, now) for s in briefing.expiring_soon]
    return data


def print_briefing(printer: Printer, briefing: Briefing, backend: Backend, total: int) -> None:
    """`total`: the memories of the whole lookback window (the briefing lists the newest
    50 at most)."""
    from memtui.domain.expiry import format_duration, format_time_left

    now = backend.now()
    whose = f"agent {printer.line(briefing.agent_id)}" if briefing.agent_id else "all agents"
    lookback = format_duration(briefing.lookback)
    printer.write(f"Briefing for {whose}, {local_time(briefing.generated_at)}")

    printer.write("")
    printer.write(f"Active sessions ({len(briefing.active_sessions)})")
    if briefing.active_sessions:
        rows = [
            [
                printer.line(s.agent_id),
                printer.line(s.id),
                format_time_left(s, now),
                local_time(s.expires_at),
            ]
            for s in briefing.active_sessions
        ]
        printer.write(
            table(
                ["  AGENT", "SESSION", "TIME LEFT", "EXPIRES (local)"],
                [["  " + r[0], *r[1:]] for r in rows],
            )
        )
    soon = ", ".join(
        f"{printer.line(s.id)} ({format_time_left(s, now)})" for s in briefing.expiring_soon
    )
    printer.write(f"Expiring within the hour: {soon or 'none'}")

    printer.write("")
    printer.write(f"Open threads ({len(briefing.open_threads)})")
    for thread in briefing.open_threads:
        where = f"{printer.line(thread.session_id)}, {local_time(thread.created_at)}"
        printer.write(f"  - {printer.line(thread.task)}  [{where}]")

    recent = briefing.recent_activity
    printer.write("")
    printer.write(f"Recent activity, last {lookback} ({total})")
    shown = recent[:RECENT_SHOWN]
    for memory in shown:
        printer.write(
            f"  {local_time(memory.time)}  {printer.line(memory.memory_type)}  "
            f"{printer.line(memory.content)}"
        )
    if total > len(shown):
        where = (
            "--json shows all" if total == len(recent) else f"--json shows the newest {len(recent)}"
        )
        printer.write(f"  … {total - len(shown)} more ({where})")


def run_briefing_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        from memtui.domain.briefing import recent_activity_total
        from memtui.domain.timewindow import parse_duration

        lookback = parse_duration(args.lookback, field="--lookback")
        agent_id = backend.get_agent(args.agent).id if args.agent else None
        briefing = backend.briefing(agent_id=agent_id, lookback=lookback)
        total = recent_activity_total(briefing, backend.count_memories)
        if args.json:
            printer.json(_json(briefing, backend, total))
        else:
            print_briefing(printer, briefing, backend, total)
        return 0

    return run_command("briefing", args, work)
