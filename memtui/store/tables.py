"""The store's schema as SQLModel table classes.

The store reads and writes through SQLAlchemy Core on these tables (`Table.__table__`):
building plain domain dataclasses from rows is several times faster than ORM objects
for timelines of 10k+ rows. Column names are the domain's; where a domain field is
called `metadata` (reserved by SQLModel) the attribute is `meta`, the column
`metadata`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel

from memtui.domain.clock import ensure_utc

# Bump with every schema change and add a step to memtui.store.migrations.
# 1: the first released schema. 2: change ids never reused on SQLite (AUTOINCREMENT).
# 3: ix_memory_session_priority (context builds read a session in priority order).
# 4: memory.seq, the insertion order: the tie-breaker after time everywhere memories
#    are sorted (a batch shares one timestamp), in place of the id in the indexes.
# 5: history and trash: change.actor, ix_change_entity (an object's changes), the
#    trash table.
# 6: the full-text index on memory content (memtui.store.search_index: FTS5 trigram
#    on SQLite, pg_trgm GIN on PostgreSQL), outside tables.py.
SCHEMA_VERSION = 6


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every dialect.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text whose fixed-width
    format sorts chronologically, so keyset comparisons stay index range scans.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = ensure_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return None if value is None else ensure_utc(value)


# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def _json(name: str | None = None, *, nullable: bool = False) -> Any:
    args: tuple[Any, ...] = (name,) if name else ()
    return Field(sa_column=Column(*args, JSON(none_as_null=True), nullable=nullable))


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class SchemaMetaTable(SQLModel, table=True):
    """Key/value facts about the store itself; `schema_version` drives migrations."""

    __tablename__ = "schema_meta"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


class AgentTable(SQLModel, table=True):
    __tablename__ = "agent"

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    description: str = Field(sa_column=Column(Text, nullable=False, default=""))
    config: dict[str, Any] = _json()
    org_id: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = _time()


class SessionTable(SQLModel, table=True):
    __tablename__ = "session"
    __table_args__ = (
        Index("ix_session_created", "created_at", "id"),
        Index("ix_session_agent_created", "agent_id", "created_at", "id"),
        Index("ix_session_status_expires", "status", "expires_at"),
    )

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    agent_id: str = Field(
        sa_column=Column(String(200), ForeignKey("agent.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(sa_column=Column(String(20), nullable=False))
    created_at: datetime = _time()
    updated_at: datetime = _time()
    expires_at: datetime | None = _time(nullable=True)
    closed_at: datetime | None = _time(nullable=True)
    workspace_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    meta: dict[str, Any] = _json("metadata")
    org_id: str = Field(sa_column=Column(String(100), nullable=False))


MEMORY_SEQUENCE = Sequence("memory_seq")  # PostgreSQL only; SQLite has no sequences


class MemoryTable(SQLModel, table=True):
    """Long-term memories. No foreign keys on purpose: memories outlive their sessions
    (and the registration of their agent)."""

    __tablename__ = "memory"
    __table_args__ = (
        Index("ix_memory_session_time", "session_id", "time", "seq"),
        Index("ix_memory_agent_time", "agent_id", "time", "seq"),
        Index("ix_memory_time", "time", "seq"),
        Index("ix_memory_type_time", "memory_type", "time", "seq"),
        Index("ix_memory_seq", "seq", unique=True),
        Index("ix_memory_agent_hash", "agent_id", "content_hash"),
        Index(
            "ix_memory_agent_dedup",
            "agent_id",
            "dedup_key",
            sqlite_where=text("dedup_key IS NOT NULL"),
            postgresql_where=text("dedup_key IS NOT NULL"),
        ),
    )

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    time: datetime = _time()
    agent_id: str = Field(sa_column=Column(String(200), nullable=False))
    content: str = Field(sa_column=Column(Text, nullable=False))
    memory_type: str = Field(sa_column=Column(String(64), nullable=False))
    event_type: str = Field(sa_column=Column(String(64), nullable=False))
    session_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    tags: list[str] = _json()
    importance: float | None = Field(sa_column=Column(Float, nullable=True))
    meta: dict[str, Any] = _json("metadata")
    parent_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    dedup_key: str | None = Field(sa_column=Column(String(200), nullable=True))
    org_id: str = Field(sa_column=Column(String(100), nullable=False))
    # sha256 of the content: commit's "already stored for this agent" check is an
    # index lookup instead of a scan of the agent's memories.
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # Insertion order, unique and growing: orders memories with the same time (a
    # batch's). PostgreSQL: from the sequence memory_seq (concurrent writers); SQLite
    # (one writer at a time): max + 1, assigned by the store.
    seq: int = Field(sa_column=Column(BigInteger, MEMORY_SEQUENCE, nullable=False))


_memory = MemoryTable.__table__

# The context engine's priority: importance first, a memory without one counting as 0.5
# (memtui.domain.context.DEFAULT_IMPORTANCE). Queries must order by this very expression
# (the 0.5 inlined, not a bound parameter) for SQLite and PostgreSQL to use the index.
MEMORY_PRIORITY = func.coalesce(_memory.c.importance, literal_column("0.5"))

# A session's memories in the engine's priority order, read backwards: ORDER BY
# priority DESC, time DESC, seq DESC is a streaming index scan that stops once the token
# budget is full, instead of sorting the whole session. memory_type, last, lets type
# filters and the COUNT of the filtered window be answered from the index alone.
Index(
    "ix_memory_session_priority",
    _memory.c.session_id,
    MEMORY_PRIORITY,
    _memory.c.time,
    _memory.c.seq,
    _memory.c.memory_type,
)


class MemoryTagTable(SQLModel, table=True):
    """One row per (tag, memory): "all these tags" filters are index lookups."""

    __tablename__ = "memory_tag"
    __table_args__ = (Index("ix_memory_tag_memory", "memory_id"),)

    tag: str = Field(sa_column=Column(String(200), primary_key=True))
    memory_id: str = Field(
        sa_column=Column(String(200), ForeignKey("memory.id", ondelete="CASCADE"), primary_key=True)
    )


class WorkingMemoryTable(SQLModel, table=True):
    __tablename__ = "working_memory"

    session_id: str = Field(
        sa_column=Column(
            String(200), ForeignKey("session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    key: str = Field(sa_column=Column(String(500), primary_key=True))
    value: Any = Field(sa_column=Column(JSON(none_as_null=False), nullable=True))
    importance: float = Field(sa_column=Column(Float, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = _time()


class SnapshotTable(SQLModel, table=True):
    __tablename__ = "snapshot"
    __table_args__ = (
        Index("ix_snapshot_session_created", "session_id", "created_at", "id"),
        Index("ix_snapshot_agent_created", "agent_id", "created_at", "id"),
        Index("ix_snapshot_created", "created_at", "id"),
    )

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    session_id: str = Field(
        sa_column=Column(String(200), ForeignKey("session.id", ondelete="CASCADE"), nullable=False)
    )
    agent_id: str = Field(sa_column=Column(String(200), nullable=False))
    event: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = _time()
    project_path: str | None = Field(sa_column=Column(Text, nullable=True))
    files_modified: list[str] = _json()
    key_decisions: list[str] = _json()
    open_tasks: list[str] = _json()


class ChangeTable(SQLModel, table=True):
    """The append-only change feed. Rows are written in the same transaction as the
    change they describe; ids only grow, so a reader's last id is a complete cursor.

    Ids are never handed out twice: PostgreSQL's sequence never goes back, and on SQLite
    AUTOINCREMENT (schema version 2) keeps the high-water mark in sqlite_sequence, where
    a plain INTEGER PRIMARY KEY would reuse the ids of deleted newest rows and a follower
    whose cursor is past them would skip the new changes."""

    __tablename__ = "change"
    __table_args__ = (
        # An object's history (schema 5): its changes in order.
        Index("ix_change_entity", "entity_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    entity_id: str = Field(sa_column=Column(String(700), nullable=False))
    agent_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    session_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    at: datetime = _time()
    data: dict[str, Any] | None = _json(nullable=True)
    # Who made it (memtui.domain.actor): cli, tui, mcp:<client>, an API key's name.
    actor: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))


class TrashTable(SQLModel, table=True):
    """Deleted memories, sessions and working-memory keys, with everything needed to
    restore them (`data`: the object's JSON; a session's with its working memory and
    snapshots). Written in the transaction that deletes; removed by a restore, a purge
    or the retention (memtui.store.repos.trash). Schema 5."""

    __tablename__ = "trash"
    __table_args__ = (
        Index("ix_trash_entity", "entity_id", "id"),
        Index("ix_trash_deleted", "deleted_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    entity: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: str = Field(sa_column=Column(String(700), nullable=False))
    session_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    agent_id: str | None = Field(sa_column=Column(String(200), nullable=True))
    deleted_at: datetime = _time()
    actor: str | None = Field(sa_column=Column(String(200), nullable=True))
    data: dict[str, Any] = _json()


class ApiKeyTable(SQLModel, table=True):
    """API keys of `memtui serve`; only a hash of each key is stored."""

    __tablename__ = "api_key"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False, default=""))
    key_hash: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    prefix: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = _time()
    revoked_at: datetime | None = _time(nullable=True)
    last_used_at: datetime | None = _time(nullable=True)


STORE_TABLES = [
    SchemaMetaTable.__table__,
    AgentTable.__table__,
    SessionTable.__table__,
    MemoryTable.__table__,
    MemoryTagTable.__table__,
    WorkingMemoryTable.__table__,
    SnapshotTable.__table__,
    ChangeTable.__table__,
    TrashTable.__table__,
    ApiKeyTable.__table__,
]
