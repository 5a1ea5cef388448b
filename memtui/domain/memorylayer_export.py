"""MemoryLayer's workspace export (`GET /v1/workspaces/{id}/export`, NDJSON), read as
memtui import records.

    {"type": "header", "version": "1.0", "workspace_id": "w", "exported_at": ..., ...}
    {"type": "memory", "index": 0, "data": {"id", "content", "type", "importance",
        "tags", "metadata", "session_id", "created_at", "updated_at", "subtype",
        "abstract", "overview", "content_hash"}}
    {"type": "association", "data": {"source_id", "target_id", "relationship_type", ...}}
    {"type": "footer", "memories_exported": N, "associations_exported": M}

How it maps (the same mapping `memtui serve`'s MemoryLayer dialect uses): the
workspace is the agent; a memory keeps its id, content, tags and importance, `type`
becomes memory_type, `created_at` its time and `session_id` its session; MemoryLayer's
own fields that memtui has no column for (subtype, abstract, overview, updated_at) are
kept under `metadata.memorylayer`. memtui has no associations between memories: they are
counted and skipped. The agent is registered on import if it is not there yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from memtui.domain.errors import InvalidInputError
from memtui.domain.transfer import LineError, Record, RecordKind, parse_record

FORMAT_VERSION = "1.0"
# Kept under metadata.memorylayer: what MemoryLayer has and memtui has no field for.
EXTRA_FIELDS = ("subtype", "abstract", "overview", "updated_at")


def _header(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and value.get("type") == "header" and "workspace_id" in value:
        return value
    return None


def is_workspace_export(first_line: str) -> bool:
    return _header(first_line) is not None


@dataclass
class WorkspaceExportReader:
    """Reads the lines after the header; counts what it skips."""

    workspace_id: str
    exported_at: str | None
    associations_skipped: int = 0

    @classmethod
    def from_header(cls, text: str, line: int = 1) -> WorkspaceExportReader:
        header = _header(text)
        if header is None:
            raise LineError(line, "not a MemoryLayer workspace export header")
        version = header.get("version")
        if version != FORMAT_VERSION:
            raise LineError(
                line,
                f"MemoryLayer export version {version!r} is not supported (memtui reads "
                f"{FORMAT_VERSION!r})",
                field="version",
            )
        workspace = header.get("workspace_id")
        if not isinstance(workspace, str) or not workspace.strip():
            raise LineError(line, "workspace_id must be a non-empty string", field="workspace_id")
        exported_at = header.get("exported_at")
        return cls(workspace, exported_at if isinstance(exported_at, str) else None)

    def records(self, lines: Iterator[tuple[int, str]]) -> Iterator[Record]:
        for number, text in lines:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise LineError(number, f"not valid JSON ({exc})") from None
            kind = value.get("type") if isinstance(value, dict) else None
            if kind == "memory":
                yield self.memory_record(value.get("data"), number)
            elif kind == "association":
                self.associations_skipped += 1
            elif kind in ("footer", "header"):
                continue
            else:
                raise LineError(
                    number,
                    f"type {kind!r} is not one of header, memory, association, footer",
                    field="type",
                )

    def memory_record(self, data: Any, line: int) -> Record:
        if not isinstance(data, dict):
            raise LineError(line, "data must be a JSON object", field="data")
        metadata = data.get("metadata")
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise LineError(line, "memory: metadata must be a JSON object", field="data.metadata")
        extra = {name: data[name] for name in EXTRA_FIELDS if data.get(name) is not None}
        if extra:
            metadata = {**metadata, "memorylayer": extra}
        time = _utc_text(data.get("created_at") or self.exported_at, line)
        memory = {
            "id": data.get("id"),
            "time": time,
            "agent_id": self.workspace_id,
            "content": data.get("content"),
            "memory_type": data.get("type") or "semantic",
            "session_id": data.get("session_id"),
            "tags": data.get("tags") or [],
            "importance": data.get("importance"),
            "metadata": metadata,
        }
        return parse_record({"kind": RecordKind.MEMORY.value, "data": memory}, line)


def _utc_text(value: Any, line: int) -> str:
    """MemoryLayer writes `isoformat()` of aware or naive UTC times; memtui's records
    take RFC 3339."""
    from memtui.domain.models import dt_from_json, dt_to_json

    if not isinstance(value, str):
        raise LineError(line, "memory: created_at is missing", field="data.created_at")
    try:
        parsed = dt_from_json(value)
    except ValueError:
        raise LineError(
            line, f"memory: created_at {value!r} is not a time", field="data.created_at"
        ) from None
    text = dt_to_json(parsed)
    if text is None:  # pragma: no cover - parsed is never None here
        raise InvalidInputError("created_at is missing", field="created_at")
    return text
