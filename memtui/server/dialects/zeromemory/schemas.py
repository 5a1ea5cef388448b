"""AINative ZeroMemory's session-snapshot shapes (seed 003)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from memtui.server.schemas import (
    BLANK_OR_NOT_BLANK,
    NOT_BLANK,
    SnapshotEventName,
    _Request,
    _Response,
)


class SessionSnapshotIn(_Request):
    """The seed's request fields; `agent_id` is memtui's (who a new session belongs to)."""

    session_id: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    project_path: str | None = None
    files_modified: list[str] = Field(default_factory=list)
    key_decisions: list[str] = Field(default_factory=list)
    open_tasks: list[str] = Field(default_factory=list)
    event: SnapshotEventName = "checkpoint"
    agent_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=BLANK_OR_NOT_BLANK,
        description="memtui: the agent of a session this save creates (default zeromemory)",
    )


class SessionDataOut(_Response):
    project_path: str | None
    files_modified: list[str]
    key_decisions: list[str]
    open_tasks: list[str]
    event: str


class SessionSnapshotOut(_Response):
    """What the seed's example reads (`session_id`, `session_data.open_tasks`), plus
    memtui's `snapshot_id` and `agent_id`."""

    session_id: str
    session_data: SessionDataOut
    created_at: datetime
    snapshot_id: str
    agent_id: str
