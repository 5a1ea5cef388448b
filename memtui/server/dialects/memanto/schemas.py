"""Memanto's (0.2.30, seed 001) request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from memtui.domain.dialects.memanto import DEFAULT_CONFIDENCE, MEMORY_TYPES
from memtui.server.schemas import NOT_BLANK, Tag, _Request, _Response

TYPE_PATTERN = "^(" + "|".join(MEMORY_TYPES) + ")$"


class RememberIn(_Request):
    content: str = Field(min_length=1, pattern=NOT_BLANK)
    type: str | None = Field(default=None, pattern=TYPE_PATTERN)
    title: str | None = Field(default=None, max_length=500)
    confidence: float = Field(default=DEFAULT_CONFIDENCE, ge=0, le=1)
    tags: list[Tag] | None = None
    source: str = Field(default="agent", max_length=200)
    provenance: str = Field(default="explicit_statement", max_length=200)


class BatchRememberIn(_Request):
    memories: list[RememberIn] = Field(min_length=1, max_length=1000)


class SessionOut(_Response):
    session_id: str
    session_token: str
    agent_id: str
    namespace: str
    started_at: datetime
    expires_at: datetime
    status: str
    metadata: dict[str, Any] | None


class SessionSummaryOut(_Response):
    session_id: str
    agent_id: str
    started_at: datetime
    ended_at: datetime
    duration_hours: float
    memories_created: int
    summary_memory_id: str | None


class CurrentSessionOut(_Response):
    session_id: str
    agent_id: str
    namespace: str
    status: str
    started_at: datetime
    expires_at: datetime
    time_remaining_minutes: int
    time_remaining_seconds: int


class ExtendOut(CurrentSessionOut):
    extended_by_hours: float


class RememberOut(_Response):
    memory_id: str
    agent_id: str
    session_id: str
    namespace: str
    status: str
    provenance: str
    confidence: float
    type: str | None


class BatchResultOut(_Response):
    id: str
    status: str
    type: str | None


class BatchRememberOut(_Response):
    agent_id: str
    session_id: str
    namespace: str
    total_submitted: int
    successful: int
    failed: int
    results: list[BatchResultOut]
