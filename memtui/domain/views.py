"""JSON views of domain objects for front ends that print or send them (the CLI's
`--json`, the MCP server): the wire shape plus what a reader needs at a glance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memtui.domain.expiry import format_time_left
from memtui.domain.models import Session


def session_view(session: Session, now: datetime) -> dict[str, Any]:
    """`Session.to_json(now)` (status reads `expired` once past expiry) plus
    `seconds_left` (negative once expired, None if it never expires) and `time_left`
    as the TUI shows it (`5h 12m`, `expired 3m ago`, `closed`, `never`)."""
    data = session.to_json(now)
    left = session.time_left(now)
    data["seconds_left"] = None if left is None else int(left.total_seconds())
    data["time_left"] = format_time_left(session, now)
    return data
