"""The store's tables as SQLAlchemy Core tables, the column lists its reads select, and
how a row becomes a domain object (no ORM: rows build the dataclasses directly)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from memtui.domain.clock import ensure_utc
from memtui.domain.models import Agent, Memory, Session, Snapshot, WorkingMemoryItem
from memtui.store.tables import (
    AgentTable,
    ChangeTable,
    MemoryTable,
    MemoryTagTable,
    SchemaMetaTable,
    SessionTable,
    SnapshotTable,
    TrashTable,
    WorkingMemoryTable,
)

agent_t = AgentTable.__table__
session_t = SessionTable.__table__
memory_t = MemoryTable.__table__
tag_t = MemoryTagTable.__table__
wm_t = WorkingMemoryTable.__table__
snapshot_t = SnapshotTable.__table__
change_t = ChangeTable.__table__
trash_t = TrashTable.__table__
meta_t = SchemaMetaTable.__table__

# Column order = the Memory dataclass's field order, so rows become Memory(*row).
MEMORY_COLUMNS = (
    memory_t.c.id,
    memory_t.c.time,
    memory_t.c.agent_id,
    memory_t.c.content,
    memory_t.c.memory_type,
    memory_t.c.event_type,
    memory_t.c.session_id,
    memory_t.c.tags,
    memory_t.c.importance,
    memory_t.c.metadata,
    memory_t.c.parent_id,
    memory_t.c.dedup_key,
    memory_t.c.org_id,
)
SESSION_COLUMNS = (
    session_t.c.id,
    session_t.c.agent_id,
    session_t.c.status,
    session_t.c.created_at,
    session_t.c.updated_at,
    session_t.c.expires_at,
    session_t.c.closed_at,
    session_t.c.workspace_id,
    session_t.c.metadata,
    session_t.c.org_id,
)
SNAPSHOT_COLUMNS = (
    snapshot_t.c.id,
    snapshot_t.c.session_id,
    snapshot_t.c.agent_id,
    snapshot_t.c.event,
    snapshot_t.c.created_at,
    snapshot_t.c.project_path,
    snapshot_t.c.files_modified,
    snapshot_t.c.key_decisions,
    snapshot_t.c.open_tasks,
)
AGENT_COLUMNS = (
    agent_t.c.id,
    agent_t.c.name,
    agent_t.c.created_at,
    agent_t.c.description,
    agent_t.c.config,
    agent_t.c.org_id,
)
WM_COLUMNS = (
    wm_t.c.session_id,
    wm_t.c.key,
    wm_t.c.value,
    wm_t.c.importance,
    wm_t.c.version,
    wm_t.c.updated_at,
)

MAX_PAGE = 10_000
MAX_VERSION = 2**62  # versions and change ids are 64-bit in the store


def memory_from(row: Sequence[Any]) -> Memory:
    return Memory(*row)


def session_from(row: Sequence[Any]) -> Session:
    return Session(*row)


def snapshot_from(row: Sequence[Any]) -> Snapshot:
    return Snapshot(*row)


def agent_from(row: Sequence[Any]) -> Agent:
    return Agent(*row)


def wm_item_from(row: Sequence[Any]) -> WorkingMemoryItem:
    return WorkingMemoryItem(*row)


def parse_sql_time(value: Any) -> datetime | None:
    """MAX() over a SQLite text column comes back as text, not through the type."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value)
    return ensure_utc(datetime.fromisoformat(str(value)))


# --- lookups every repository makes ---------------------------------------------------


def find_agent(conn: Connection, id_or_name: str) -> Agent | None:
    row = conn.execute(select(*AGENT_COLUMNS).where(agent_t.c.id == id_or_name)).first()
    if row is None:
        row = conn.execute(select(*AGENT_COLUMNS).where(agent_t.c.name == id_or_name)).first()
    return None if row is None else agent_from(row)


def resolve_agent_id(conn: Connection, id_or_name: str) -> str:
    """Queries accept an agent's id or name; unknown values match nothing."""
    agent = find_agent(conn, id_or_name)
    return agent.id if agent else id_or_name
