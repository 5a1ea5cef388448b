"""The briefing: what happened lately, which sessions are open, which expire soon, and
the open tasks of each session's latest snapshot. The SQL store gathers the rows in one
read transaction; `memtui.backend.BackendBase` gathers them with core methods; both
assemble the result here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from memtui.domain.expiry import EXPIRING_SOON
from memtui.domain.models import Briefing, Memory, MemoryQuery, OpenThread, Session, Snapshot

RECENT_ACTIVITY_LIMIT = 50
OPEN_THREADS_LIMIT = 100


def recent_activity_total(briefing: Briefing, count: Callable[[MemoryQuery], int]) -> int:
    """How many memories the briefing's lookback window holds. The briefing carries the
    newest RECENT_ACTIVITY_LIMIT at most, so only a full list is counted again
    (`count` is a backend's count_memories)."""
    listed = len(briefing.recent_activity)
    if listed < RECENT_ACTIVITY_LIMIT:
        return listed
    since = briefing.generated_at - briefing.lookback
    return max(listed, count(MemoryQuery(agent_id=briefing.agent_id, since=since)))


def open_threads(latest_snapshots: Iterable[Snapshot]) -> list[OpenThread]:
    """The open tasks of each session's latest snapshot, given newest first; at most
    OPEN_THREADS_LIMIT (the iterable is read no further than needed)."""
    threads: list[OpenThread] = []
    for snapshot in latest_snapshots:
        threads.extend(
            OpenThread(
                session_id=snapshot.session_id,
                agent_id=snapshot.agent_id,
                task=task,
                snapshot_id=snapshot.id,
                created_at=snapshot.created_at,
            )
            for task in snapshot.open_tasks
        )
        if len(threads) >= OPEN_THREADS_LIMIT:
            break
    return threads[:OPEN_THREADS_LIMIT]


def assemble_briefing(
    *,
    now: datetime,
    lookback: timedelta,
    recent_activity: list[Memory],
    active_sessions: Sequence[Session],
    latest_snapshots: Iterable[Snapshot],
    agent_id: str | None,
) -> Briefing:
    """`recent_activity` newest first (at most RECENT_ACTIVITY_LIMIT), `active_sessions`
    newest first, `latest_snapshots` one per session, newest first."""
    soon = sorted(
        (
            s
            for s in active_sessions
            if s.expires_at is not None and s.expires_at - now < EXPIRING_SOON
        ),
        key=lambda s: s.expires_at,  # type: ignore[arg-type, return-value]
    )
    return Briefing(
        generated_at=now,
        lookback=lookback,
        recent_activity=recent_activity,
        open_threads=open_threads(latest_snapshots),
        active_sessions=list(active_sessions),
        expiring_soon=soon,
        agent_id=agent_id,
    )
