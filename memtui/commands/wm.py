"""`memtui wm list|get|set|rm SESSION [KEY] [VALUE|-]`: a session's working memory.

    memtui wm list sess_1
    memtui wm get sess_1 current_task            # the value as JSON
    memtui wm set sess_1 current_task '{"goal": "fix login"}'
    echo '{"goal": "fix login"}' | memtui wm set sess_1 current_task --expected-version 3
    memtui wm rm sess_1 current_task

`set` reads the value as JSON from its argument, or from stdin when it is `-` or left
out; malformed JSON is refused with its line and column and nothing is written.
`--expected-version N` writes only if the key is still at version N (0: only if it does
not exist yet); a stale version is an error that gives the current one.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from memtui.commands.output import (
    CommandError,
    Printer,
    dumps_json,
    local_time,
    run_command,
    table,
)

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import WorkingMemoryItem

STDIN_MARK = "-"


def read_json_value(text: str, *, source: str) -> Any:
    """The JSON value in `text`; CommandError with line and column when it is not."""
    if not text.strip():
        raise CommandError(f"no value: {source} is empty (give JSON, e.g. '\"text\"' or '{{}}')")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        hint = ""
        if error.pos == 0:
            hint = " (a string must be quoted as JSON: '\"like this\"')"
        raise CommandError(
            f"invalid JSON in {source} at line {error.lineno}, column {error.colno}: "
            f"{error.msg}{hint}; nothing was written"
        ) from None
    except RecursionError:
        raise CommandError(
            f"the JSON in {source} is nested too deeply; nothing was written"
        ) from None


def _value_text(item: WorkingMemoryItem) -> str:
    return dumps_json(item.value, indent=None)


def _item_json(item: WorkingMemoryItem) -> dict[str, Any]:
    return item.to_json()


def _list(backend: Backend, printer: Printer, args: argparse.Namespace) -> int:
    items = backend.list_working_memory(args.session_id)
    if args.json:
        printer.json({"session_id": args.session_id, "items": [_item_json(i) for i in items]})
        return 0
    if not items:
        printer.write(f"Session {printer.line(args.session_id)} has no working memory.")
        return 0
    rows = [
        [
            printer.line(item.key),
            str(item.version),
            f"{item.importance:g}",
            local_time(item.updated_at),
            printer.line(_value_text(item)),
        ]
        for item in items
    ]
    printer.write(table(["KEY", "VERSION", "IMPORTANCE", "UPDATED", "VALUE"], rows))
    return 0


def _get(backend: Backend, printer: Printer, args: argparse.Namespace) -> int:
    item = backend.get_working_memory(args.session_id, args.key)
    if args.json:
        printer.json(_item_json(item))
    else:
        printer.write(printer.body(dumps_json(item.value)))
    return 0


def _set(backend: Backend, printer: Printer, args: argparse.Namespace) -> int:
    from memtui.domain.errors import VersionConflictError

    key = args.key
    if args.value is None or args.value == STDIN_MARK:
        if sys.stdin is None or sys.stdin.isatty():
            raise CommandError("give the VALUE as JSON, or pipe it in (VALUE '-' reads stdin)")
        value = read_json_value(sys.stdin.read(), source="stdin")
    else:
        value = read_json_value(args.value, source="VALUE")
    try:
        item = backend.set_working_memory(
            args.session_id,
            key,
            value,
            importance=args.importance,
            expected_version=args.expected_version,
        )
    except VersionConflictError as conflict:
        current = conflict.current
        now = f"is at version {current.version}" if current is not None else "no longer exists"
        raise CommandError(
            f"not written: the key {key!r} {now}, not {args.expected_version} "
            "(it changed since you read it)"
        ) from None
    if args.json:
        printer.json(_item_json(item))
    else:
        action = "created" if item.version == 1 else "updated"
        printer.write(f"{action} {printer.line(item.key)}: version {item.version}")
    return 0


def _rm(backend: Backend, printer: Printer, args: argparse.Namespace) -> int:
    from memtui.domain.errors import VersionConflictError

    key = args.key
    try:
        backend.delete_working_memory(args.session_id, key, expected_version=args.expected_version)
    except VersionConflictError as conflict:
        current = conflict.current
        now = f"is at version {current.version}" if current is not None else "no longer exists"
        raise CommandError(
            f"not deleted: the key {key!r} {now}, not {args.expected_version}"
        ) from None
    if args.json:
        printer.json({"session_id": args.session_id, "key": key, "deleted": True})
    else:
        printer.write(f"deleted {printer.line(key)}")
    return 0


_ACTIONS = {"list": _list, "get": _get, "set": _set, "rm": _rm}


def run_wm_command(args: argparse.Namespace) -> int:
    action = _ACTIONS[args.wm_command]
    return run_command(f"wm {args.wm_command}", args, lambda b, p: action(b, p, args))
