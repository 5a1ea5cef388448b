"""The domain model: plain dataclasses, no ORM, no UI.

Every backend returns these. `to_json()` gives the JSON-ready dict the HTTP API uses
(Memtrace v1 field names plus memtui's extensions); `from_json()` reads it back.
"""

from __future__ import annotations

import secrets
import time as _time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from memtui.domain.clock import ensure_utc

DEFAULT_ORG = "org_default"
DEFAULT_SESSION_TTL = timedelta(hours=6)
DEFAULT_EXTEND = timedelta(hours=6)

JSONValue = Any  # anything json.dumps accepts


class SessionStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    EXPIRED = "expired"  # never stored: an active session whose expires_at has passed


class MemoryType(StrEnum):
    """Memtrace's own types. Users may store any other type string too."""

    EPISODIC = "episodic"
    SESSION = "session"
    DECISION = "decision"
    ENTITY = "entity"


MEMTRACE_MEMORY_TYPES: tuple[str, ...] = tuple(t.value for t in MemoryType)
DEFAULT_MEMORY_TYPE = MemoryType.EPISODIC.value
DEFAULT_EVENT_TYPE = "general"
ERROR_EVENT_TYPE = "error"


class SnapshotEvent(StrEnum):
    PRE_COMPACT = "pre_compact"
    SESSION_END = "session_end"
    CHECKPOINT = "checkpoint"


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


# --- ids -------------------------------------------------------------------------------


def _time_sortable_hex() -> str:
    # 48-bit millisecond timestamp + 64 random bits: ids sort by creation time.
    return f"{int(_time.time() * 1000):012x}{secrets.token_hex(8)}"


def new_session_id() -> str:
    return "sess_" + secrets.token_hex(8)


def new_memory_id() -> str:
    return "mem_" + _time_sortable_hex()


def new_agent_id() -> str:
    return "agt_" + secrets.token_hex(6)


def new_snapshot_id() -> str:
    return "snap_" + _time_sortable_hex()


# --- JSON helpers ----------------------------------------------------------------------


def dt_to_json(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a trailing Z, as Memtrace writes it."""
    if value is None:
        return None
    return ensure_utc(value).isoformat().replace("+00:00", "Z")


def dt_from_json(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value)
    return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


class _JsonModel:
    """to_json/from_json for flat dataclasses whose datetime fields end in _at or are `time`."""

    _datetime_fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        for name in self._datetime_fields:
            data[name] = dt_to_json(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        kwargs = {k: v for k, v in data.items() if k in names}
        for name in cls._datetime_fields:
            if name in kwargs:
                kwargs[name] = dt_from_json(kwargs[name])
        return cls(**kwargs)


# --- entities --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agent(_JsonModel):
    id: str
    name: str
    created_at: datetime
    description: str = ""
    config: dict[str, JSONValue] = field(default_factory=dict)
    org_id: str = DEFAULT_ORG

    _datetime_fields = ("created_at",)


@dataclass(frozen=True, slots=True)
class AgentStats(_JsonModel):
    agent_id: str
    memory_count: int
    memories_24h: int
    errors_24h: int
    session_count: int
    active_sessions: int
    last_active_at: datetime | None
    memory_types: dict[str, int]

    _datetime_fields = ("last_active_at",)


@dataclass(frozen=True, slots=True)
class Session(_JsonModel):
    id: str
    agent_id: str
    status: str  # stored status: "active" or "closed"
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None  # None: never expires
    closed_at: datetime | None = None
    workspace_id: str | None = None
    metadata: dict[str, JSONValue] = field(default_factory=dict)
    org_id: str = DEFAULT_ORG

    _datetime_fields = ("created_at", "updated_at", "expires_at", "closed_at")

    def effective_status(self, now: datetime) -> SessionStatus:
        """active / closed / expired, the last computed from `now`."""
        if self.status == SessionStatus.CLOSED:
            return SessionStatus.CLOSED
        if self.expires_at is not None and self.expires_at <= now:
            return SessionStatus.EXPIRED
        return SessionStatus.ACTIVE

    def time_left(self, now: datetime) -> timedelta | None:
        """Negative once expired; None if the session never expires."""
        if self.expires_at is None:
            return None
        return self.expires_at - now

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        """The wire shape: `session_id` mirrors `id`; with `now`, status reads `expired`
        once the session has expired."""
        data = _JsonModel.to_json(self)
        data["session_id"] = self.id
        if now is not None:
            data["status"] = self.effective_status(now).value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        data = dict(data)
        if "id" not in data and "session_id" in data:
            data["id"] = data["session_id"]
        if data.get("status") == SessionStatus.EXPIRED:
            data["status"] = SessionStatus.ACTIVE.value  # expiry is recomputed from expires_at
        data.setdefault("updated_at", data.get("created_at"))
        data["metadata"] = data.get("metadata") or {}
        return _JsonModel.from_json.__func__(cls, data)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Memory(_JsonModel):
    id: str
    time: datetime
    agent_id: str
    content: str
    memory_type: str = DEFAULT_MEMORY_TYPE
    event_type: str = DEFAULT_EVENT_TYPE
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    importance: float | None = None
    metadata: dict[str, JSONValue] = field(default_factory=dict)
    parent_id: str | None = None
    dedup_key: str | None = None
    org_id: str = DEFAULT_ORG

    _datetime_fields = ("time",)

    @property
    def is_error(self) -> bool:
        return self.event_type == ERROR_EVENT_TYPE

    def to_json(self) -> dict[str, Any]:
        """The one wire shape of a memory: the API, the change feed, `--json`, MCP.
        Built field by field, not by dataclasses.asdict's deep copy: lists of memories
        are the server's hottest path and the change feed stores one per write. The
        metadata is the memory's own (not copied): serialise it, don't change it."""
        return {
            "id": self.id,
            "time": dt_to_json(self.time),
            "agent_id": self.agent_id,
            "content": self.content,
            "memory_type": self.memory_type,
            "event_type": self.event_type,
            "session_id": self.session_id,
            "tags": list(self.tags),
            "importance": self.importance,
            "metadata": self.metadata,
            "parent_id": self.parent_id,
            "dedup_key": self.dedup_key,
            "org_id": self.org_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Memory:
        data = dict(data)
        data["tags"] = data.get("tags") or []
        data["metadata"] = data.get("metadata") or {}
        data.setdefault("id", "")  # a plain Memtrace server gives memories no id
        return _JsonModel.from_json.__func__(cls, data)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class NewMemory:
    """What a caller hands a backend to store. `time` defaults to the backend's clock."""

    agent_id: str
    content: str
    memory_type: str = DEFAULT_MEMORY_TYPE
    event_type: str = DEFAULT_EVENT_TYPE
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    importance: float | None = None
    metadata: dict[str, JSONValue] = field(default_factory=dict)
    parent_id: str | None = None
    dedup_key: str | None = None
    time: datetime | None = None
    id: str | None = None  # normally generated; given only by imports and the demo


@dataclass(frozen=True, slots=True)
class MemoryPatch:
    """A partial edit of a memory: fields left as None are unchanged."""

    content: str | None = None
    memory_type: str | None = None
    event_type: str | None = None
    tags: list[str] | None = None
    importance: float | None = None
    metadata: dict[str, JSONValue] | None = None


@dataclass(frozen=True, slots=True)
class WorkingMemoryItem(_JsonModel):
    session_id: str
    key: str
    value: JSONValue
    importance: float
    version: int
    updated_at: datetime

    _datetime_fields = ("updated_at",)


DEFAULT_WORKING_MEMORY_IMPORTANCE = 0.5


@dataclass(frozen=True, slots=True)
class CommitResult(_JsonModel):
    memories_created: int
    memories_deduplicated: int
    memory_ids: list[str]
    skipped_keys: list[str] = field(default_factory=list)  # below min_importance
    deduplicated_keys: list[str] = field(default_factory=list)
    created_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Snapshot(_JsonModel):
    id: str
    session_id: str
    agent_id: str
    event: str
    created_at: datetime
    project_path: str | None = None
    files_modified: list[str] = field(default_factory=list)
    key_decisions: list[str] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)

    _datetime_fields = ("created_at",)


@dataclass(frozen=True, slots=True)
class NewSnapshot:
    event: str = SnapshotEvent.CHECKPOINT.value
    project_path: str | None = None
    files_modified: list[str] = field(default_factory=list)
    key_decisions: list[str] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OpenThread:
    """An open task from a session's latest snapshot."""

    session_id: str
    agent_id: str
    task: str
    snapshot_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Briefing:
    generated_at: datetime
    lookback: timedelta
    recent_activity: list[Memory]
    open_threads: list[OpenThread]
    active_sessions: list[Session]
    expiring_soon: list[Session]  # active, expiring within the next hour
    agent_id: str | None = None

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.generated_at
        return {
            "generated_at": dt_to_json(self.generated_at),
            "agent_id": self.agent_id,
            "lookback_seconds": int(self.lookback.total_seconds()),
            "recent_activity": [m.to_json() for m in self.recent_activity],
            "open_threads": [
                {
                    "session_id": t.session_id,
                    "agent_id": t.agent_id,
                    "task": t.task,
                    "snapshot_id": t.snapshot_id,
                    "created_at": dt_to_json(t.created_at),
                }
                for t in self.open_threads
            ],
            "active_sessions": [s.to_json(now) for s in self.active_sessions],
            "expiring_soon": [s.to_json(now) for s in self.expiring_soon],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Briefing:
        return cls(
            generated_at=dt_from_json(data["generated_at"]),  # type: ignore[arg-type]
            agent_id=data.get("agent_id"),
            lookback=timedelta(seconds=data.get("lookback_seconds", 86400)),
            recent_activity=[Memory.from_json(m) for m in data.get("recent_activity", [])],
            open_threads=[
                OpenThread(
                    session_id=t["session_id"],
                    agent_id=t["agent_id"],
                    task=t["task"],
                    snapshot_id=t["snapshot_id"],
                    created_at=dt_from_json(t["created_at"]),  # type: ignore[arg-type]
                )
                for t in data.get("open_threads", [])
            ],
            active_sessions=[Session.from_json(s) for s in data.get("active_sessions", [])],
            expiring_soon=[Session.from_json(s) for s in data.get("expiring_soon", [])],
        )


# --- queries and pages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemoryCursor:
    """Keyset position: the (time, id) of the last row of the previous page."""

    time: datetime
    id: str

    def encode(self) -> str:
        return f"{dt_to_json(self.time)}|{self.id}"

    @classmethod
    def decode(cls, token: str) -> MemoryCursor:
        from memtui.domain.errors import InvalidInputError

        try:
            time_text, memory_id = token.split("|", 1)
            return cls(time=dt_from_json(time_text), id=memory_id)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"invalid cursor {token!r}", field="cursor") from exc


@dataclass(frozen=True, slots=True)
class MemoryQuery:
    """Filters for listing and searching memories. All given filters must match.

    Paging is keyset (`after`) for the UI and anything large; `offset` exists only for
    Memtrace compatibility and small offsets.
    """

    agent_id: str | None = None
    session_id: str | None = None
    memory_types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # all must be present
    content_contains: str | None = None  # case-insensitive substring
    min_importance: float | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # inclusive
    order: str = Order.DESC.value
    limit: int = 100
    after: MemoryCursor | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class MemoryPage:
    memories: list[Memory]
    has_more: bool
    next_cursor: MemoryCursor | None  # pass as `after` to get the next page

    @property
    def count(self) -> int:
        return len(self.memories)


# --- context ---------------------------------------------------------------------------

DEFAULT_ENCODING = "cl100k_base"
ENCODINGS: tuple[str, ...] = ("cl100k_base", "o200k_base")


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """`since`/`until` are the raw strings the user typed (relative or ISO 8601); they
    are parsed against the backend's clock so errors can name the bad value."""

    since: str | None = None
    until: str | None = None
    include_types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    max_tokens: int | None = None
    order: str = Order.DESC.value
    encoding: str = DEFAULT_ENCODING
    # The context as it would have been built then, from history (relative or ISO 8601;
    # `since`/`until` then count back from that time). Needs Capability.HISTORY.
    as_of: str | None = None


@dataclass(frozen=True, slots=True)
class ContextResult(_JsonModel):
    session_id: str
    context: str
    memory_count: int  # memories included in `context`
    token_count: int
    max_tokens: int | None
    truncated: bool
    omitted_count: int
    encoding: str


@dataclass(frozen=True, slots=True)
class ServerContext(_JsonModel):
    """A server's own context for a session (MemoryLayer's context-pack), beside
    memtui's exact tiktoken count of the same text: how far off the server's own
    estimate is (`exact_tokens - server_tokens`)."""

    session_id: str
    text: str
    server_tokens: int  # what the server says it used
    server_estimator: str  # how it counted (MemoryLayer: characters / 3)
    exact_tokens: int  # tiktoken, `encoding`
    encoding: str
    item_count: int
    budget_tokens: int


# --- change feed -----------------------------------------------------------------------


class ChangeKind(StrEnum):
    SESSION_CREATED = "session.created"
    SESSION_UPDATED = "session.updated"
    SESSION_EXPIRED = "session.expired"
    SESSION_DELETED = "session.deleted"
    SESSION_RESTORED = "session.restored"
    MEMORY_CREATED = "memory.created"
    MEMORY_UPDATED = "memory.updated"
    MEMORY_DELETED = "memory.deleted"
    MEMORY_RESTORED = "memory.restored"
    WORKING_MEMORY_CHANGED = "working_memory.changed"
    SNAPSHOT_CREATED = "snapshot.created"
    AGENT_CREATED = "agent.created"
    AGENT_DELETED = "agent.deleted"


@dataclass(frozen=True, slots=True)
class Change(_JsonModel):
    """One entry of the store's append-only change feed. `id` increases monotonically;
    a reader keeps the last id it saw as its cursor and never misses a change."""

    id: int
    kind: str
    entity_id: str
    at: datetime
    agent_id: str | None = None
    session_id: str | None = None
    data: dict[str, JSONValue] | None = None  # the object, as to_json() gives it
    actor: str | None = None  # who made it (memtui.domain.actor); None before schema 5

    _datetime_fields = ("at",)

    def to_json(self) -> dict[str, Any]:
        data = _JsonModel.to_json(self)
        if data["actor"] is None:
            del data["actor"]  # changes made before schema 5 do not know theirs
        return data


class Capability(StrEnum):
    """What a backend offers beyond plain Memtrace v1."""

    EXPIRY = "expiry"  # expires_at and extend
    WORKING_MEMORY = "working_memory"
    COMMIT = "commit"
    SNAPSHOTS = "snapshots"
    BRIEFING = "briefing"
    MEMORY_IDS = "memory_ids"  # stable ids, so edit and delete
    MEMORY_EDIT = "memory_edit"
    SESSION_DELETE = "session_delete"
    EVENTS = "events"  # change feed / SSE
    SERVER_CONTEXT = "server_context"  # the server's own context builder, beside memtui's
    SESSION_CLOSE = "session_close"  # close and reopen (a status besides expiry)
    WORKING_MEMORY_DELETE = "working_memory_delete"  # delete one key
    WORKING_MEMORY_RENAME = "working_memory_rename"
    WORKING_MEMORY_IMPORTANCE = "working_memory_importance"  # an importance per key
    CUSTOM_MEMORY_TYPES = "custom_memory_types"  # any type name, not a fixed set
    MEMORY_TIME = "memory_time"  # a memory keeps the time its writer gives it
    SESSION_MEMORIES = "session_memories"  # memories belong to a session, not only its agent
    CONTEXT_BUDGET = "context_budget"  # exact max_tokens with token_count
    CONTEXT_EXPLAIN = "context_explain"  # why each memory is in a context or not
    HISTORY = "history"  # revisions of memories, keys, sessions, snapshots
    TRASH = "trash"  # deletes go to a trash, restorable until purged
    IMPORT = "import"  # lossless import: ids, times and versions kept (memtui import)


# What memtui's own store (and so `memtui serve`) offers: everything but another
# server's own context builder.
ALL_CAPABILITIES: frozenset[str] = frozenset(c.value for c in Capability) - {
    Capability.SERVER_CONTEXT.value
}


def implied_capabilities(features: frozenset[str]) -> frozenset[str]:
    """What a memtui or Memtrace server offers without naming it (servers from before
    these names existed): every Memtrace v1 server closes and reopens sessions (PUT
    status) and stores any memory type at the time it is given; memtui's working memory
    always had per-key delete, rename and importance."""
    implied = {
        Capability.SESSION_CLOSE.value,
        Capability.CUSTOM_MEMORY_TYPES.value,
        Capability.MEMORY_TIME.value,
        Capability.SESSION_MEMORIES.value,
    }
    if Capability.WORKING_MEMORY in features:
        implied |= {
            Capability.WORKING_MEMORY_DELETE.value,
            Capability.WORKING_MEMORY_RENAME.value,
            Capability.WORKING_MEMORY_IMPORTANCE.value,
        }
    return features | implied
