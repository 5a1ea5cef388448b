"""The session list's sort orders (issue 9): by time left, agent, status or created.

Plain functions over `Session` (no UI), so the TUI's list and its tests agree on one
order. "created" is the store's own order (newest first, ties by id); the other keys
sort stably on top of it, so rows never swap places between two refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from memtui.domain.models import Session, SessionStatus

SORT_KEYS: dict[str, str] = {
    "left": "time left",
    "agent": "agent",
    "status": "status",
    "created": "created",
}
DEFAULT_SORT = "created"
_STATUS_RANK = {SessionStatus.ACTIVE: 0, SessionStatus.EXPIRED: 1, SessionStatus.CLOSED: 2}
# Seconds-left ranks: live sessions by their seconds left, then expired ones (the most
# recently expired first), then those that never expire, then closed ones.
_EXPIRED_BASE = 1e17
_NEVER = 1e18
_CLOSED = float("inf")


def _seconds_left(session: Session, now: datetime) -> float:
    """The soonest deadline first (see the ranks above)."""
    if session.effective_status(now) == SessionStatus.CLOSED:
        return _CLOSED
    left = session.time_left(now)
    if left is None:
        return _NEVER
    seconds = left.total_seconds()
    return _EXPIRED_BASE - seconds if seconds <= 0 else seconds


def sort_sessions(
    sessions: Iterable[Session], key: str, now: datetime, *, reverse: bool = False
) -> list[Session]:
    """`sessions` (given in the store's order: the newest created first) in the order
    `key` names (`SORT_KEYS`); `reverse` flips it. The sorts are stable, so ties keep
    the store's order."""
    ordered = list(sessions)
    primary: Callable[[Session], Any] | None = {
        "left": lambda s: _seconds_left(s, now),
        "agent": lambda s: s.agent_id.lower(),
        "status": lambda s: (_STATUS_RANK[s.effective_status(now)], _seconds_left(s, now)),
        "created": None,
    }.get(key)
    if primary is not None:
        ordered.sort(key=primary)
    if reverse:
        ordered.reverse()
    return ordered
