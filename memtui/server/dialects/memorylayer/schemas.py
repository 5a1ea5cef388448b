"""MemoryLayer's request and response shapes (memorylayer-server 0.2.0's OpenAPI, the
routes seed 002 uses). Responses carry every field the real server documents and every
field `memorylayer-client` 0.2.1's models require, so clients of either kind work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from memtui.domain.dialects.memorylayer import (
    DEFAULT_TTL_SECONDS,
    MEMORYLAYER_TYPES,
    MIN_TTL_SECONDS,
)
from memtui.server.schemas import BLANK_OR_NOT_BLANK, NOT_BLANK, Tag, _Request, _Response

# The real server's MemoryType enum, stated as a pattern so that a bad type is a 400
# naming it (in MemoryLayer's error shape), as every other bad value.
TYPE_PATTERN = "^(" + "|".join(MEMORYLAYER_TYPES) + ")$"
WorkspaceField = Field(default=None, min_length=1, max_length=200, pattern=BLANK_OR_NOT_BLANK)


# --- errors ------------------------------------------------------------------------------


class ErrorResponse(_Response):
    """MemoryLayer's declared error shape; `detail` repeats `message` for clients that
    read FastAPI's `detail` (memorylayer-client does)."""

    error: str
    message: str
    details: dict[str, Any] | None = None
    detail: str | None = None


# --- sessions ----------------------------------------------------------------------------


class SessionCreateIn(_Request):
    session_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    workspace_id: str | None = WorkspaceField
    ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, ge=MIN_TTL_SECONDS, le=10 * 365 * 86400)
    metadata: dict[str, Any] = Field(default_factory=dict)
    context_id: str | None = None
    working_memory: dict[str, Any] | None = None
    briefing: bool = False
    briefing_options: dict[str, Any] | None = None


class SessionOut(_Response):
    id: str
    workspace_id: str
    tenant_id: str
    context_id: str
    user_id: str | None
    metadata: dict[str, Any]
    auto_commit: bool
    committed_at: datetime | None
    expires_at: datetime
    created_at: datetime


class BriefingOut(_Response):
    workspace_summary: dict[str, Any]
    recent_activity: list[dict[str, Any]]
    open_threads: list[dict[str, Any]]
    contradictions_detected: list[dict[str, Any]]
    memories: list[dict[str, Any]]


class SessionStartOut(_Response):
    session: SessionOut
    briefing: BriefingOut | None


class SessionOneOut(SessionOut):
    """The real server's `{session: {...}}`, with the session's fields also at the top
    level, where memorylayer-client 0.2.1's get_session reads them."""

    session: SessionOut


class SessionListOut(_Response):
    sessions: list[SessionOut]
    total_count: int


class BriefingResponseOut(BriefingOut):
    """The real server's `{briefing: {...}}`, with the briefing's fields also at the top
    level, where memorylayer-client 0.2.1's get_briefing reads them."""

    briefing: BriefingOut


class TouchOut(_Response):
    expires_at: datetime
    session_id: str
    extended: bool


class WorkingMemorySetIn(_Request):
    key: str = Field(min_length=1, max_length=500)
    value: Any = Field(description="any JSON value, null included")
    ttl_seconds: int | None = Field(default=None, ge=1)


class WorkingMemoryOut(_Response):
    key: str
    value: Any
    ttl_seconds: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    session_id: str


class CommitIn(_Request):
    min_importance: float = Field(default=0.5, ge=0, le=1)
    deduplicate: bool = True
    categories: list[str] | None = None
    max_memories: int = Field(default=50, ge=1, le=10_000)


class CommitOut(_Response):
    session_id: str
    memories_extracted: int
    memories_deduplicated: int
    memories_created: int
    breakdown: dict[str, Any]
    extraction_time_ms: int


# --- memories ----------------------------------------------------------------------------


class MemoryCreateIn(_Request):
    content: str = Field(min_length=1, pattern=NOT_BLANK)
    workspace_id: str | None = WorkspaceField
    type: str | None = Field(default=None, pattern=TYPE_PATTERN)
    subtype: str | None = None
    importance: float = Field(default=0.5, ge=0, le=1)
    tags: list[Tag] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    logical_key: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    context_id: str | None = None
    user_id: str | None = None


class MemoryUpdateIn(_Request):
    content: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK)
    type: str | None = Field(default=None, pattern=TYPE_PATTERN)
    subtype: str | None = None
    importance: float | None = Field(default=None, ge=0, le=1)
    tags: list[Tag] | None = None
    metadata: dict[str, Any] | None = None
    pinned: bool | None = None


class MemoryRecallIn(_Request):
    query: str = Field(min_length=1, pattern=NOT_BLANK)
    workspace_id: str | None = WorkspaceField
    types: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=100_000)
    min_relevance: float | None = Field(default=None, ge=0, le=1)


class MemoryOut(_Response):
    id: str
    workspace_id: str
    tenant_id: str
    content: str
    content_hash: str
    type: str
    subtype: str | None
    importance: float
    tags: list[str]
    metadata: dict[str, Any]
    access_count: int
    decay_factor: float
    status: str
    pinned: bool
    revision: int
    etag: str
    session_id: str | None
    created_at: datetime
    updated_at: datetime


class MemoryOneOut(_Response):
    memory: MemoryOut


class MemoryListOut(_Response):
    memories: list[MemoryOut]
    total_count: int


class RecallOut(_Response):
    memories: list[MemoryOut]
    total_count: int
    query_tokens: int
    search_latency_ms: int
    mode_used: str
