"""The session list's sort orders (memtui.domain.session_sort)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memtui.domain.models import Session, SessionStatus
from memtui.domain.session_sort import sort_sessions

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


def session(sid: str, agent: str, *, left: timedelta | None, closed: bool = False) -> Session:
    return Session(
        id=sid,
        agent_id=agent,
        created_at=NOW - timedelta(hours=1),
        updated_at=NOW,
        expires_at=None if left is None else NOW + left,
        status=SessionStatus.CLOSED if closed else SessionStatus.ACTIVE,
    )


STORE_ORDER = [
    session("s_new", "zed", left=timedelta(hours=5)),
    session("s_soon", "amy", left=timedelta(minutes=3)),
    session("s_never", "Bob", left=None),
    session("s_gone", "amy", left=-timedelta(minutes=1)),
    session("s_old_gone", "cat", left=-timedelta(hours=2)),
    session("s_closed", "bob", left=timedelta(hours=1), closed=True),
]


def ids(sessions: list[Session]) -> list[str]:
    return [s.id for s in sessions]


def test_created_keeps_the_stores_order_and_reverses():
    assert ids(sort_sessions(STORE_ORDER, "created", NOW)) == ids(STORE_ORDER)
    assert ids(sort_sessions(STORE_ORDER, "created", NOW, reverse=True)) == ids(STORE_ORDER)[::-1]


def test_time_left_soonest_first_then_expired_never_closed():
    assert ids(sort_sessions(STORE_ORDER, "left", NOW)) == [
        "s_soon",
        "s_new",
        "s_gone",  # expired a minute ago: before the one expired two hours ago
        "s_old_gone",
        "s_never",
        "s_closed",
    ]


def test_agent_ignores_case_and_keeps_the_stores_order_for_ties():
    assert ids(sort_sessions(STORE_ORDER, "agent", NOW)) == [
        "s_soon",
        "s_gone",
        "s_never",
        "s_closed",
        "s_old_gone",
        "s_new",
    ]


def test_status_active_then_expired_then_closed():
    ordered = ids(sort_sessions(STORE_ORDER, "status", NOW))
    assert ordered == ["s_soon", "s_new", "s_never", "s_gone", "s_old_gone", "s_closed"]
