"""Pydantic request and response models: they validate what comes in and make
`/openapi.json` describe exactly what goes out.

Routes return ready-made JSON (the domain's `to_json()` shapes) for speed; these models
are the truthful description of those shapes. Memtrace's strict clients need every
Memtrace field present with its type; extra fields (our extensions) are allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memtui.domain.models import ENCODINGS
from memtui.domain.validation import TYPE_NAME_PATTERN

Order = Literal["asc", "desc"]
Encoding = Literal[ENCODINGS]  # type: ignore[valid-type]
# Versions and change ids are 64-bit integers in the store: larger values are 400s.
MAX_VERSION = 2**62
SnapshotEventName = Literal["pre_compact", "session_end", "checkpoint"]


class _Request(BaseModel):
    # Unknown request fields are ignored, as Memtrace's JSON decoding does. Strict: JSON
    # `true` is not a number and `"5"` is not an integer (Go's decoder agrees).
    model_config = ConfigDict(extra="ignore", strict=True)


# Patterns the store enforces, stated so /openapi.json tells clients the truth. JSON
# Schema patterns match anywhere: "\S" means "has a non-blank character".
NOT_BLANK = r"\S"
BLANK_OR_NOT_BLANK = r"^$|\S"
TYPE_NAME_OR_EMPTY = r"^$|^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
Tag = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- errors ----------------------------------------------------------------------------


class ErrorBody(_Response):
    """Every error response: `{"error": "..."}`, sometimes with more fields."""

    error: str


class WorkingMemoryConflictBody(ErrorBody):
    """409 for a stale working-memory version: the item as it is now (null if gone)."""

    current: WorkingMemoryItemOut | None = None
    expected_version: int | None = None


# --- health ----------------------------------------------------------------------------


class DialectOut(_Response):
    name: str
    system: str
    base_path: str


class HealthOut(_Response):
    status: str
    service: str
    version: str
    features: list[str]
    dialects: list[DialectOut] = Field(description="the APIs served, each on its base path")


# --- memories --------------------------------------------------------------------------


class MemoryIn(_Request):
    """One memory to store. `memory_type` defaults to episodic and `event_type` to
    general, as in Memtrace; memtui also stores types beyond Memtrace's four."""

    agent_id: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    content: str = Field(min_length=1, pattern=NOT_BLANK)
    memory_type: str | None = Field(default=None, max_length=64, pattern=TYPE_NAME_OR_EMPTY)
    event_type: str | None = Field(default=None, max_length=64, pattern=TYPE_NAME_OR_EMPTY)
    session_id: str | None = Field(default=None, max_length=200, pattern=BLANK_OR_NOT_BLANK)
    tags: list[Tag] | None = None
    importance: float | None = Field(default=None, ge=0, le=1)
    metadata: dict[str, Any] | None = None
    parent_id: str | None = Field(default=None, max_length=200, pattern=BLANK_OR_NOT_BLANK)
    dedup_key: str | None = Field(default=None, max_length=200, pattern=BLANK_OR_NOT_BLANK)
    time: Annotated[datetime | None, Field(strict=False)] = Field(
        default=None, description="memtui: when it happened (imports); default: now"
    )
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="memtui: a client-chosen id (imports); 409 if it exists",
    )

    @field_validator("time", mode="before")
    @classmethod
    def _time_is_text(cls, value: Any) -> Any:
        # JSON has no datetime type: an RFC 3339 string, never a number.
        if value is not None and not isinstance(value, str):
            raise ValueError("time must be an RFC 3339 string")
        return value


class MemoryBatchIn(_Request):
    memories: list[MemoryIn] = Field(min_length=1, max_length=10_000)


class MemoryOut(_Response):
    """Memtrace's Memory plus memtui's stable `id`."""

    id: str
    time: datetime
    org_id: str
    agent_id: str
    session_id: str | None
    memory_type: str
    event_type: str
    content: str
    metadata: dict[str, Any] | None
    tags: list[str] | None
    dedup_key: str | None
    importance: float | None
    parent_id: str | None


class MemoryBatchOut(_Response):
    memories: list[MemoryOut]
    count: int


class MemoryListOut(_Response):
    memories: list[MemoryOut]
    count: int
    has_more: bool
    next_cursor: str | None = Field(
        default=None, description="pass as `after` to get the next page"
    )


class MemoryCountOut(_Response):
    count: int


class MemoryTypesOut(_Response):
    memory_types: list[str]


class MemoryPatchIn(_Request):
    content: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK)
    memory_type: str | None = Field(default=None, pattern=TYPE_NAME_PATTERN)
    event_type: str | None = Field(default=None, pattern=TYPE_NAME_PATTERN)
    tags: list[Tag] | None = None
    importance: float | None = Field(default=None, ge=0, le=1)
    metadata: dict[str, Any] | None = None


class SearchIn(_Request):
    agent_id: str | None = None
    session_id: str | None = None
    memory_types: list[str] | None = None
    exclude_types: list[str] | None = None
    event_types: list[str] | None = None
    tags: list[str] | None = None
    content_contains: str | None = None
    since: str | None = None
    until: str | None = None
    min_importance: float | None = Field(default=None, ge=0, le=1)
    limit: int | None = Field(default=None, ge=0, le=1000, description="0 means 50")
    order: Order | None = None
    after: str | None = Field(default=None, description="cursor from `next_cursor`")


class SearchOut(_Response):
    results: list[MemoryOut]
    count: int
    query_time_ms: int
    has_more: bool
    next_cursor: str | None = None


# --- agents ----------------------------------------------------------------------------


class AgentIn(_Request):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str | None = None
    config: dict[str, Any] | None = None


class AgentOut(_Response):
    id: str
    org_id: str
    name: str
    description: str | None
    config: dict[str, Any] | None
    created_at: datetime


class AgentListOut(_Response):
    agents: list[AgentOut]
    count: int
    has_more: bool


class AgentStatsOut(_Response):
    agent_id: str
    memory_count: int
    memories_24h: int
    errors_24h: int
    session_count: int
    active_sessions: int
    last_active_at: datetime | None = None
    memory_types: dict[str, int]


# --- sessions --------------------------------------------------------------------------


class SessionIn(_Request):
    agent_id: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    metadata: dict[str, Any] | None = None
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="a client-chosen id",
    )
    ttl_seconds: int | None = Field(
        default=None,
        gt=0,
        le=10 * 365 * 86400,
        description="absent: the server default (6 h); null: never expires",
    )
    workspace_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)


class SessionUpdateIn(_Request):
    status: Literal["active", "closed"] | None = None
    metadata: dict[str, Any] | None = None


class SessionExtendIn(_Request):
    """Either `hours` or `seconds` (not both); neither means 6 hours."""

    hours: float | None = Field(default=None, gt=0, le=10 * 365 * 24)
    seconds: int | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class SessionOut(_Response):
    """Memtrace's Session plus memtui's `session_id` (= id), `expires_at` (null: never)
    and `workspace_id`. `status` reads `expired` once `expires_at` has passed."""

    id: str
    session_id: str
    org_id: str
    agent_id: str
    status: Literal["active", "closed", "expired"]
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    expires_at: datetime | None
    workspace_id: str | None


class SessionListOut(_Response):
    sessions: list[SessionOut]
    count: int
    has_more: bool


class ContextIn(_Request):
    since: str | None = None
    until: str | None = None
    include_types: list[str] | None = None
    exclude_types: list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=0, le=10_000_000, description="0: no limit")
    order: Order | None = None
    encoding: Encoding | None = None  # type: ignore[valid-type]
    as_of: str | None = Field(default=None, max_length=100, description="memtui: as of a time")


class ContextOut(_Response):
    session_id: str
    context: str
    memory_count: int
    token_count: int
    max_tokens: int | None
    truncated: bool
    omitted_count: int
    encoding: str


class SectionCostOut(_Response):
    heading: str
    memory_count: int
    tokens: int


class BudgetRaiseOut(_Response):
    tokens: int
    memories: int
    max_tokens: int


class CandidateOut(_Response):
    id: str
    time: datetime
    memory_type: str
    event_type: str
    importance: float | None
    content: str
    included: bool
    reason: str
    detail: str
    section: str | None
    tokens: int | None
    priority: int | None


class ContextExplanationOut(_Response):
    session_id: str
    max_tokens: int | None
    encoding: str
    token_count: int
    memory_count: int
    candidate_count: int
    omitted_count: int
    header_tokens: int
    sections: list[SectionCostOut]
    next_raise: BudgetRaiseOut | None
    all_raise: BudgetRaiseOut | None
    since: datetime | None
    until: datetime | None
    include_types: list[str]
    exclude_types: list[str]
    candidates: list[CandidateOut]


class RevisionOut(_Response):
    change_id: int
    at: datetime
    actor: str | None
    entity: str
    entity_id: str
    action: str
    session_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(_Response):
    revisions: list[RevisionOut]
    count: int


class TrashItemOut(_Response):
    id: int
    entity: str
    entity_id: str
    session_id: str | None
    agent_id: str | None
    deleted_at: datetime
    actor: str | None
    data: dict[str, Any]


class TrashListOut(_Response):
    items: list[TrashItemOut]
    count: int


class TrashPurgeIn(_Request):
    ids: list[Annotated[int, Field(ge=1, le=MAX_VERSION)]] | None = Field(
        default=None, max_length=10_000
    )
    all: bool = False


class TrashPurgeOut(_Response):
    purged: int


# --- working memory --------------------------------------------------------------------


class WorkingMemoryItemOut(_Response):
    session_id: str
    key: str
    value: Any
    importance: float
    version: int
    updated_at: datetime


class WorkingMemoryListOut(_Response):
    items: list[WorkingMemoryItemOut]
    count: int


class WorkingMemoryPutIn(_Request):
    value: Any = Field(description="any JSON value, null included")
    importance: float | None = Field(default=None, ge=0, le=1)
    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_VERSION,
        description="refuse the write unless the item is at this version",
    )


class WorkingMemoryRenameIn(_Request):
    new_key: str = Field(min_length=1, max_length=500, pattern=NOT_BLANK)
    expected_version: int | None = Field(default=None, ge=0, le=MAX_VERSION)


class CommitIn(_Request):
    min_importance: float = Field(default=0.5, ge=0, le=1)
    deduplicate: bool = True


class CommitOut(_Response):
    memories_created: int
    memories_deduplicated: int
    memory_ids: list[str]
    skipped_keys: list[str]
    deduplicated_keys: list[str]
    created_keys: list[str]


# --- snapshots and briefing ------------------------------------------------------------


class SnapshotIn(_Request):
    event: SnapshotEventName = "checkpoint"
    project_path: str | None = None
    files_modified: list[str] = Field(default_factory=list)
    key_decisions: list[str] = Field(default_factory=list)
    open_tasks: list[str] = Field(default_factory=list)


class SnapshotOut(_Response):
    id: str
    session_id: str
    agent_id: str
    event: str
    created_at: datetime
    project_path: str | None
    files_modified: list[str]
    key_decisions: list[str]
    open_tasks: list[str]


class SnapshotListOut(_Response):
    snapshots: list[SnapshotOut]
    count: int


class OpenThreadOut(_Response):
    session_id: str
    agent_id: str
    task: str
    snapshot_id: str
    created_at: datetime


class BriefingOut(_Response):
    generated_at: datetime
    agent_id: str | None
    lookback_seconds: int
    recent_activity: list[MemoryOut]
    open_threads: list[OpenThreadOut]
    active_sessions: list[SessionOut]
    expiring_soon: list[SessionOut]


# --- change feed -----------------------------------------------------------------------


class ChangeOut(_Response):
    id: int
    kind: str
    entity_id: str
    at: datetime
    agent_id: str | None
    session_id: str | None
    data: dict[str, Any] | None


class ChangeListOut(_Response):
    changes: list[ChangeOut]
    count: int
    has_more: bool
    latest_id: int


WorkingMemoryConflictBody.model_rebuild()


# --- import ----------------------------------------------------------------------------


class ImportIn(_Request):
    """A batch of `memtui export` records: `{"kind": "memory", "data": {...}}` each."""

    records: list[dict[str, Any]]


class ImportConflictOut(_Response):
    index: int  # position in `records`
    kind: str
    key: list[str]  # the id, or session id and key for working memory


class ImportOut(_Response):
    added: int
    unchanged: int  # already stored with the same values
    conflicts: list[ImportConflictOut]  # stored with other values: kept as stored
