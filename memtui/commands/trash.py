"""`memtui trash [--json]`, `memtui trash --purge ID… | --purge-all`, and
`memtui restore ID`: deleted memories, sessions and working-memory keys, restorable as
they were until purged or older than the retention.

`restore` takes a trash item's number (the first column of `memtui trash`) or the id of
what was deleted (a memory or session id; `SESSION/KEY` for a key): the newest trash
item for it is restored.
"""

from __future__ import annotations

import argparse

from memtui.backend import Backend
from memtui.commands.output import CommandError, Printer, local_time, run_command, table
from memtui.domain.history import Entity, TrashItem, describe_trash_item

_PREVIEW = 60


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def trash_rows(items: list[TrashItem], printer: Printer) -> list[list[str]]:
    return [
        [
            str(item.id),
            item.entity,
            printer.line(item.entity_id),
            local_time(item.deleted_at),
            printer.line(item.actor or "?"),
            printer.line(_preview(item.summary)),
        ]
        for item in items
    ]


def find_item(items: list[TrashItem], wanted: str) -> TrashItem:
    """The trash item `wanted` names: its number, or the deleted object's id."""
    if wanted.isdigit():
        for item in items:
            if item.id == int(wanted):
                return item
    for item in items:  # newest first
        if item.entity in (Entity.MEMORY, Entity.SESSION) and item.entity_id == wanted:
            return item
        if item.entity == Entity.WORKING_MEMORY and f"{item.session_id}/{item.entity_id}" == wanted:
            return item
    raise CommandError(f"nothing in the trash is {wanted!r} (see memtui trash)")


def run_trash_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        if args.purge_all:
            purged = backend.purge_trash(None)
            printer.write(f"purged {purged} trash item{'s' if purged != 1 else ''}")
            return 0
        if args.purge:
            items = backend.list_trash()
            ids = [find_item(items, wanted).id for wanted in args.purge]
            purged = backend.purge_trash(ids)
            printer.write(f"purged {purged} trash item{'s' if purged != 1 else ''}")
            return 0
        items = backend.list_trash()
        if args.json:
            printer.json({"items": [item.to_json() for item in items], "count": len(items)})
            return 0
        if not items:
            printer.write("the trash is empty")
            return 0
        headers = ["#", "WHAT", "ID", "DELETED", "BY", "CONTENT"]
        printer.write(table(headers, trash_rows(items, printer)))
        return 0

    return run_command("trash", args, work)


def run_restore_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        item = find_item(backend.list_trash(), args.item)
        restored = backend.restore_from_trash(item.id)
        if args.json:
            printer.json(restored.to_json())
        else:
            printer.write(f"restored {printer.line(describe_trash_item(restored))}")
        return 0

    return run_command("restore", args, work)
