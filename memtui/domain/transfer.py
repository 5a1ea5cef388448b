"""memtui's export format: one JSON object per line (JSON Lines), lossless.

    {"format": "memtui-export", "version": 1}
    {"kind": "agent", "data": {...}}
    {"kind": "session", "data": {...}}
    {"kind": "snapshot", "data": {...}}
    {"kind": "working_memory", "data": {...}}
    {"kind": "memory", "data": {...}}

The first line names the format. Records follow in the order an import needs them
(an agent before its sessions, a session before its snapshots and working memory);
memories come last, oldest first, so a store that imports them keeps their order.
Every field of every object is written, ids and timestamps included, so
`export → import into an empty store → export` gives the same lines.

Plain rules only: how a record is written and how a line is read and checked. Reading a
backend and writing a store are the commands' and the stores' business.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from memtui.domain import validation as check
from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    Agent,
    Memory,
    Session,
    SessionStatus,
    Snapshot,
    WorkingMemoryItem,
    dt_from_json,
    dt_to_json,
)
from memtui.domain.safe_json import MAX_JSON_DEPTH, deep_json_path

EXPORT_FORMAT = "memtui-export"
EXPORT_VERSION = 1
HEADER: dict[str, Any] = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION}
# A line longer than this is refused before it is parsed (a memory's content is text an
# LLM wrote; 64 MiB is far above any real one and keeps one bad line from eating memory).
MAX_LINE_BYTES = 64 * 1024 * 1024
# Records per import request over HTTP (one transaction each).
MAX_IMPORT_BATCH = 5000


class RecordKind(StrEnum):
    AGENT = "agent"
    SESSION = "session"
    SNAPSHOT = "snapshot"
    WORKING_MEMORY = "working_memory"
    MEMORY = "memory"


TransferObject = Agent | Session | Snapshot | WorkingMemoryItem | Memory

_MODEL_OF: dict[RecordKind, type[Any]] = {
    RecordKind.AGENT: Agent,
    RecordKind.SESSION: Session,
    RecordKind.SNAPSHOT: Snapshot,
    RecordKind.WORKING_MEMORY: WorkingMemoryItem,
    RecordKind.MEMORY: Memory,
}
_KIND_OF: dict[type[Any], RecordKind] = {model: kind for kind, model in _MODEL_OF.items()}


@dataclass(frozen=True, slots=True)
class Record:
    """One object of an export, and the line it came from (0 when it came from a
    backend rather than a file)."""

    kind: RecordKind
    obj: TransferObject
    line: int = 0

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the object in a store: its id, or session and key for a
        working-memory item."""
        if isinstance(self.obj, WorkingMemoryItem):
            return (self.obj.session_id, self.obj.key)
        return (self.obj.id,)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What importing one batch did."""

    added: int = 0
    unchanged: int = 0  # already stored exactly so: importing twice adds nothing
    conflicts: tuple[Record, ...] = ()  # stored with other values: kept as stored

    def __add__(self, other: ImportOutcome) -> ImportOutcome:
        return ImportOutcome(
            self.added + other.added,
            self.unchanged + other.unchanged,
            self.conflicts + other.conflicts,
        )


# --- writing ---------------------------------------------------------------------------


@cache
def _field_names(model: type[Any]) -> tuple[str, ...]:
    return tuple(spec.name for spec in fields(model))


def record_data(obj: TransferObject) -> dict[str, Any]:
    """Every field of the object, datetimes as RFC 3339 UTC, in declaration order.
    A session's status is the stored one: `expired` is computed, never stored."""
    data: dict[str, Any] = {}
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        data[name] = dt_to_json(value) if isinstance(value, datetime) else value
    if isinstance(obj, Session) and data["status"] == SessionStatus.EXPIRED:
        data["status"] = SessionStatus.ACTIVE.value
    return data


def export_record(obj: TransferObject) -> dict[str, Any]:
    """One record of the export, ready for `json.dumps` (one line each)."""
    return {"kind": _KIND_OF[type(obj)].value, "data": record_data(obj)}


def header_line() -> str:
    return json.dumps(HEADER)


# --- reading ---------------------------------------------------------------------------


class LineError(InvalidInputError):
    """A line of an import file that cannot be imported; says which line and why."""

    def __init__(self, line: int, message: str, *, field: str | None = None) -> None:
        super().__init__(f"line {line}: {message}", field=field)
        self.line = line


def parse_header(text: str, line: int = 1) -> None:
    try:
        value = _loads(text, line)
    except LineError:
        value = None
    if not isinstance(value, dict) or value.get("format") != EXPORT_FORMAT:
        raise LineError(
            line,
            f"not a memtui export: the first line must be {header_line()} "
            "(memtui import also reads MemoryLayer workspace exports)",
        )
    if value.get("version") != EXPORT_VERSION:
        raise LineError(
            line,
            f"export format version {value.get('version')!r} is not supported "
            f"(this memtui reads version {EXPORT_VERSION})",
            field="version",
        )


def parse_line(text: str, line: int) -> Record:
    """One record line, checked as the stores check what they are given. LineError
    names the line and the field."""
    return parse_record(_loads(text, line), line)


def parse_record(value: Any, line: int, *, where: str | None = None) -> Record:
    """One record (`{"kind", "data"}`) already parsed from JSON. Errors name `where`
    (default "line N") and the field."""
    place = where or f"line {line}"
    if not isinstance(value, dict):
        raise _bad(place, line, f"a record must be a JSON object, got {type(value).__name__}")
    kind_text = value.get("kind")
    try:
        kind = RecordKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in RecordKind)
        raise _bad(place, line, f"kind {kind_text!r} is not one of {kinds}", "kind") from None
    data = value.get("data")
    if not isinstance(data, dict):
        raise _bad(place, line, "data must be a JSON object", "data")
    try:
        obj = _CHECKS[kind](data)
    except InvalidInputError as exc:
        field = f"data.{exc.field}" if exc.field else "data"
        raise _bad(place, line, f"{kind.value}: {exc}", field) from None
    return Record(kind, obj, line)


def _bad(place: str, line: int, message: str, field: str | None = None) -> LineError:
    error = LineError(line, message, field=field)
    error.message = f"{place}: {message}"
    return error


def _loads(text: str, line: int) -> Any:
    if len(text) > MAX_LINE_BYTES:
        raise LineError(line, f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
    try:
        return json.loads(text)
    except RecursionError:
        # Too deep for the parser: say where, from the text alone. Shallower values
        # are checked field by field (at most MAX_JSON_DEPTH levels) after parsing.
        deep = deep_json_path(text, MAX_JSON_DEPTH)
        where = f"data.{deep[0]}" if deep else "the record"
        raise LineError(line, f"{where} is nested too deeply to read", field=where) from None
    except ValueError as exc:
        raise LineError(line, f"not valid JSON ({exc})") from None


def _required(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise InvalidInputError(f"{name} is missing", field=name)
    return data[name]


def _time(data: dict[str, Any], name: str, *, optional: bool = False) -> datetime | None:
    value = data.get(name) if optional else _required(data, name)
    if value is None and optional:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = dt_from_json(value)
    except ValueError:
        raise InvalidInputError(
            f"{name} must be an RFC 3339 time, got {value!r}", field=name, value=value
        ) from None
    return parsed


def _optional_id(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else check.check_text(name, value, max_length=check.MAX_ID_LENGTH)


def _org(data: dict[str, Any]) -> str:
    return check.check_text("org_id", data.get("org_id", "org_default"), max_length=100)


def _agent(data: dict[str, Any]) -> Agent:
    return Agent(
        id=check.check_id("id", _required(data, "id")),
        name=check.check_text("name", _required(data, "name"), max_length=check.MAX_ID_LENGTH),
        created_at=_time(data, "created_at"),  # type: ignore[arg-type]
        description=check.check_optional_text("description", data.get("description")) or "",
        config=check.check_object("config", data.get("config"), copy=False),
        org_id=_org(data),
    )


def _session(data: dict[str, Any]) -> Session:
    status = _required(data, "status")
    if status not in (SessionStatus.ACTIVE, SessionStatus.CLOSED):
        raise InvalidInputError(
            f"status {status!r} is not active or closed", field="status", value=status
        )
    return Session(
        id=check.check_id("id", _required(data, "id")),
        agent_id=check.check_id("agent_id", _required(data, "agent_id")),
        status=status,
        created_at=_time(data, "created_at"),  # type: ignore[arg-type]
        updated_at=_time(data, "updated_at"),  # type: ignore[arg-type]
        expires_at=_time(data, "expires_at", optional=True),
        closed_at=_time(data, "closed_at", optional=True),
        workspace_id=_optional_id(data, "workspace_id"),
        metadata=check.check_object("metadata", data.get("metadata"), copy=False),
        org_id=_org(data),
    )


def _snapshot(data: dict[str, Any]) -> Snapshot:
    return Snapshot(
        id=check.check_id("id", _required(data, "id")),
        session_id=check.check_id("session_id", _required(data, "session_id")),
        agent_id=check.check_id("agent_id", _required(data, "agent_id")),
        event=check.check_snapshot_event(_required(data, "event")),
        created_at=_time(data, "created_at"),  # type: ignore[arg-type]
        project_path=check.check_optional_text("project_path", data.get("project_path")),
        files_modified=check.check_string_list("files_modified", data.get("files_modified")),
        key_decisions=check.check_string_list("key_decisions", data.get("key_decisions")),
        open_tasks=check.check_string_list("open_tasks", data.get("open_tasks")),
    )


def _working_memory(data: dict[str, Any]) -> WorkingMemoryItem:
    version = _required(data, "version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(
            f"version must be a whole number from 1, got {version!r}",
            field="version",
            value=version,
        )
    return WorkingMemoryItem(
        session_id=check.check_id("session_id", _required(data, "session_id")),
        key=check.check_text("key", _required(data, "key"), max_length=500),
        value=check.check_json("value", _required(data, "value"), copy=False),
        importance=check.check_importance(_required(data, "importance"), required=True),  # type: ignore[arg-type]
        version=version,
        updated_at=_time(data, "updated_at"),  # type: ignore[arg-type]
    )


def _memory(data: dict[str, Any]) -> Memory:
    return Memory(
        id=check.check_id("id", _required(data, "id")),
        time=_time(data, "time"),  # type: ignore[arg-type]
        agent_id=check.check_id("agent_id", _required(data, "agent_id")),
        content=check.check_text("content", _required(data, "content")),
        memory_type=check.check_type_name("memory_type", data.get("memory_type", "episodic")),
        event_type=check.check_type_name("event_type", data.get("event_type", "general")),
        session_id=_optional_id(data, "session_id"),
        tags=check.check_tags(data.get("tags")),
        importance=check.check_importance(data.get("importance")),
        metadata=check.check_object("metadata", data.get("metadata"), copy=False),
        parent_id=_optional_id(data, "parent_id"),
        dedup_key=_optional_id(data, "dedup_key"),
        org_id=_org(data),
    )


_CHECKS: dict[RecordKind, Callable[[dict[str, Any]], TransferObject]] = {
    RecordKind.AGENT: _agent,
    RecordKind.SESSION: _session,
    RecordKind.SNAPSHOT: _snapshot,
    RecordKind.WORKING_MEMORY: _working_memory,
    RecordKind.MEMORY: _memory,
}


def same_object(stored: TransferObject, incoming: TransferObject) -> bool:
    """Whether a stored object equals an imported one, as the export writes them."""
    return record_data(stored) == record_data(incoming)
