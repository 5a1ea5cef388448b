"""MemoryLayer's JSON as memtui's models, and back.

- A **workspace** is what memtui shows as the agent (its id in the agent column).
- A **session** never closes (MemoryLayer has no such state): it is active until its
  `expires_at`, then expired until the server's cleanup deletes it.
- A **memory** has no session link (`session_id` stays null on the server): it is the
  workspace's. Its `type` is memtui's memory type (episodic, semantic, procedural,
  working), its `subtype` memtui's event type, `created_at` its time.
- **Working memory** is a flat `{key: value}` with no versions and no importance; the
  backend numbers the values it sees (see `VersionBook`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memtui.domain.clock import ensure_utc
from memtui.domain.models import (
    DEFAULT_EVENT_TYPE,
    DEFAULT_WORKING_MEMORY_IMPORTANCE,
    Agent,
    Memory,
    Session,
    SessionStatus,
    WorkingMemoryItem,
    dt_from_json,
)

MEMORYLAYER_TYPES: tuple[str, ...] = ("episodic", "procedural", "semantic", "working")
DEFAULT_WORKSPACE = "_default"


def parse_time(value: Any, fallback: datetime) -> datetime:
    """The server writes naive ISO times in UTC (and sometimes with an offset)."""
    if isinstance(value, str) and value:
        try:
            parsed = dt_from_json(value)
        except ValueError:
            return fallback
        return parsed if parsed is not None else fallback
    if isinstance(value, datetime):
        return ensure_utc(value)
    return fallback


def session_from_wire(data: dict[str, Any], now: datetime) -> Session:
    created = parse_time(data.get("created_at"), now)
    workspace = str(data.get("workspace_id") or DEFAULT_WORKSPACE)
    metadata = data.get("metadata")
    expires = data.get("expires_at")
    return Session(
        id=str(data["id"]),
        agent_id=workspace,
        status=SessionStatus.ACTIVE.value,
        created_at=created,
        updated_at=parse_time(data.get("committed_at"), created),
        expires_at=parse_time(expires, created) if expires else None,
        workspace_id=workspace,
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
    )


def memory_from_wire(data: dict[str, Any], now: datetime) -> Memory:
    importance = data.get("importance")
    metadata = data.get("metadata")
    return Memory(
        id=str(data["id"]),
        time=parse_time(data.get("created_at"), now),
        agent_id=str(data.get("workspace_id") or DEFAULT_WORKSPACE),
        content=str(data.get("content") or ""),
        memory_type=str(data.get("type") or "episodic"),
        event_type=str(data.get("subtype") or DEFAULT_EVENT_TYPE),
        session_id=None,  # MemoryLayer keeps no session link
        tags=[str(t) for t in data.get("tags") or []],
        importance=float(importance) if isinstance(importance, int | float) else None,
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
        parent_id=data.get("source_memory_id") or None,
    )


def agent_from_workspace(data: dict[str, Any], now: datetime) -> Agent:
    """A workspace as memtui's agent: its settings are the config (a description that
    memtui stored goes in settings too, as the workspace has no such field)."""
    settings = dict(data.get("settings") or {}) if isinstance(data.get("settings"), dict) else {}
    description = settings.pop("description", "")
    return Agent(
        id=str(data["id"]),
        name=str(data["id"]),  # sessions name their workspace by id: so does memtui
        created_at=parse_time(data.get("created_at"), now),
        description=str(description or data.get("name") or ""),
        config=settings,
    )


def fingerprint(value: Any) -> str:
    """One text per JSON value (key order ignored), to tell values apart."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class _Seen:
    version: int
    fingerprint: str
    updated_at: datetime


class VersionBook:
    """Versions for working memory, which MemoryLayer does not keep: the first value
    this backend sees of a key is version 1, and each different value it sees after
    that is the next version. A save with `expected_version` re-reads the key first and
    refuses when the value differs from the one that version stood for, so an edit
    based on an old value is never written over a newer one silently. Numbers are this
    process's own (another memtui counts for itself)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], _Seen] = {}

    def observe(
        self,
        session_id: str,
        key: str,
        value: Any,
        now: datetime,
        *,
        updated_at: datetime | None = None,
    ) -> WorkingMemoryItem:
        text = fingerprint(value)
        with self._lock:
            seen = self._seen.get((session_id, key))
            if seen is None:
                seen = _Seen(1, text, updated_at or now)
                self._seen[(session_id, key)] = seen
            elif seen.fingerprint != text:
                seen.version += 1
                seen.fingerprint = text
                seen.updated_at = updated_at or now
            elif updated_at is not None:
                seen.updated_at = updated_at
            return WorkingMemoryItem(
                session_id=session_id,
                key=key,
                value=value,
                importance=DEFAULT_WORKING_MEMORY_IMPORTANCE,
                version=seen.version,
                updated_at=seen.updated_at,
            )

    def wrote(self, session_id: str, key: str, value: Any, now: datetime) -> WorkingMemoryItem:
        """This backend wrote `value`: a new version even when the value is the same,
        so a second writer holding the old version number is refused."""
        with self._lock:
            seen = self._seen.get((session_id, key))
            if seen is None:
                self._seen[(session_id, key)] = _Seen(1, fingerprint(value), now)
            else:
                seen.version += 1
                seen.fingerprint = fingerprint(value)
                seen.updated_at = now
        return self.observe(session_id, key, value, now)

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            for found in [k for k in self._seen if k[0] == session_id]:
                del self._seen[found]
