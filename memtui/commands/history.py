"""`memtui history --memory ID | --session ID | --key SESSION KEY | --snapshot ID
[--json]`: the revisions of one object, oldest first, each with its time, actor and
what it changed (a word diff of a memory's content, a JSON diff of every other field).

Text on stdout (stored text made visible on a terminal, exact into a pipe); `--json`
prints `{"revisions": [...], "count": n}` as GET /api/v1/history answers.
"""

from __future__ import annotations

import argparse
from typing import Any

from memtui.backend import Backend
from memtui.commands.output import CommandError, Printer, dumps_json, local_time, run_command
from memtui.domain.history import HistoryTarget, Revision, revision_changes

# Word-diff markers in text output (as wdiff writes them).
REMOVED = ("[-", "-]")
ADDED = ("{+", "+}")


def _compact(backend: Backend, printer: Printer, as_json: bool) -> int:
    from memtui.config import load_config
    from memtui.store.retention import compact, retention_days

    compact_history = getattr(backend, "compact_history", None)
    if compact_history is None:
        raise CommandError("--compact works on a local store (--db), not over a server")
    days = retention_days(load_config())
    changes, items = compact(backend, days)  # type: ignore[arg-type]
    if as_json:
        printer.json({"retention_days": days, "changes_compacted": changes, "trash_purged": items})
    else:
        printer.write(
            f"retention {days:g} days: compacted {changes} changes, purged {items} trash items"
        )
    return 0


def target_from_args(args: argparse.Namespace) -> HistoryTarget:
    given = [
        name
        for name in ("memory", "session", "key", "snapshot")
        if getattr(args, name, None) is not None
    ]
    if len(given) != 1:
        raise CommandError(
            "give one of --memory ID, --session ID, --key SESSION KEY or --snapshot ID"
        )
    if args.key is not None:
        session_id, key = args.key
        return HistoryTarget.key(session_id, key)
    name = given[0]
    value = getattr(args, name)
    return {
        "memory": HistoryTarget.memory,
        "session": HistoryTarget.session,
        "snapshot": HistoryTarget.snapshot,
    }[name](value)


def _value(value: Any, printer: Printer) -> str:
    return printer.line(dumps_json(value, indent=None))


def revision_lines(revision: Revision, printer: Printer) -> list[str]:
    actor = printer.line(revision.actor) if revision.actor else "unknown"
    lines = [
        f"{local_time(revision.at)}  {revision.action}  by {actor}  (change {revision.change_id})"
    ]
    if revision.before is None and revision.after is not None and revision.action != "updated":
        for name, value in revision.after.items():
            lines.append(f"  {printer.line(str(name))}: {_value(value, printer)}")
        return lines
    if revision.after is None:
        return lines
    if revision.before is None:  # the oldest kept revision: history before it compacted
        lines.append("  (earlier history compacted; this is the state it kept)")
        for name, value in revision.after.items():
            lines.append(f"  {printer.line(str(name))}: {_value(value, printer)}")
        return lines
    words, fields = revision_changes(revision)
    if words is not None:
        parts = []
        for span in words:
            text = printer.line(span.text)
            if span.op == "removed":
                text = REMOVED[0] + text + REMOVED[1]
            elif span.op == "added":
                text = ADDED[0] + text + ADDED[1]
            parts.append(text)
        lines.append("  content: " + "".join(parts))
    for change in fields:
        path = printer.line(change.path)
        if change.op == "added":
            lines.append(f"  {path}: added {_value(change.after, printer)}")
        elif change.op == "removed":
            lines.append(f"  {path}: removed {_value(change.before, printer)}")
        else:
            before = _value(change.before, printer)
            after = _value(change.after, printer)
            lines.append(f"  {path}: {before} -> {after}")
    if words is None and not fields:
        lines.append("  (no field changed)")
    return lines


def run_history_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        if getattr(args, "compact", False):
            return _compact(backend, printer, args.json)
        target = target_from_args(args)
        revisions = backend.history(target)
        if args.json:
            printer.json({"revisions": [r.to_json() for r in revisions], "count": len(revisions)})
            return 0
        if not revisions:
            printer.write(f"no history for {printer.line(target.describe())}")
            return 0
        for index, revision in enumerate(revisions):
            if index:
                printer.write()
            for line in revision_lines(revision, printer):
                printer.write(line)
        return 0

    return run_command("history", args, work)
