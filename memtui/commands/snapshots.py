"""`memtui snapshots SESSION`: a session's snapshots (seed 003), newest first.

Each snapshot is a header line (id, local time, event, project path) and its files
modified, key decisions and open tasks, one item a line; `--json` gives them whole.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memtui.commands.output import Printer, local_time, run_command

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import Snapshot

SECTIONS = (
    ("files_modified", "files modified"),
    ("key_decisions", "key decisions"),
    ("open_tasks", "open tasks"),
)


def print_snapshot(printer: Printer, snapshot: Snapshot) -> None:
    header = [
        printer.line(snapshot.id),
        local_time(snapshot.created_at),
        printer.line(snapshot.event),
    ]
    if snapshot.project_path:
        header.append(printer.line(snapshot.project_path))
    printer.write("  ".join(header))
    for name, label in SECTIONS:
        items: list[str] = getattr(snapshot, name)
        printer.write(f"  {label} ({len(items)})")
        for item in items:
            printer.write(f"    - {printer.line(item)}")


def run_snapshots_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        backend.get_session(args.session_id)
        snapshots = backend.list_snapshots(args.session_id)
        if args.json:
            printer.json(
                {
                    "session_id": args.session_id,
                    "snapshots": [s.to_json() for s in snapshots],
                    "count": len(snapshots),
                }
            )
            return 0
        if not snapshots:
            printer.write(f"Session {printer.line(args.session_id)} has no snapshots.")
            return 0
        for index, snapshot in enumerate(snapshots):
            if index:
                printer.write()
            print_snapshot(printer, snapshot)
        return 0

    return run_command("snapshots", args, work)
