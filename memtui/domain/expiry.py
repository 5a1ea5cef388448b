"""Expiry arithmetic and the countdown text every front end shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import Session, SessionStatus

EXPIRING_SOON = timedelta(hours=1)
# Expiries stop a year short of datetime's maximum (9999-12-31), so that showing one in
# any time zone, or adding a countdown to it, can never overflow.
LATEST_EXPIRY = datetime(9999, 1, 1, tzinfo=UTC)
EXPIRING_VERY_SOON = timedelta(minutes=10)


class Urgency(StrEnum):
    """How close to expiry a session is; the UI colours rows by it."""

    NONE = "none"  # closed, never expires, or more than an hour left
    SOON = "soon"  # under an hour left
    VERY_SOON = "very_soon"  # under ten minutes left
    EXPIRED = "expired"


def extended_expiry(current: datetime | None, by: timedelta, now: datetime) -> datetime:
    """Extend adds to the current expiry; an expired (or never-expiring) session counts
    from now. An expiry at or past LATEST_EXPIRY is an InvalidInputError (field `by`)."""
    base = current if current is not None and current > now else now
    try:
        expiry = base + by
    except OverflowError:
        expiry = None
    if expiry is None or expiry >= LATEST_EXPIRY:
        raise InvalidInputError(
            f"extending by {format_duration(by)} would move the expiry past "
            f"{LATEST_EXPIRY.year - 1}, the latest memtui keeps",
            field="by",
            value=str(by),
        )
    return expiry


def urgency(session: Session, now: datetime) -> Urgency:
    status = session.effective_status(now)
    if status == SessionStatus.EXPIRED:
        return Urgency.EXPIRED
    left = session.time_left(now)
    if status == SessionStatus.CLOSED or left is None:
        return Urgency.NONE
    if left < EXPIRING_VERY_SOON:
        return Urgency.VERY_SOON
    if left < EXPIRING_SOON:
        return Urgency.SOON
    return Urgency.NONE


def format_duration(delta: timedelta) -> str:
    """`3d 4h`, `5h 12m`, then `9m 03s` in the last hour, `42s` in the last minute."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def format_time_left(session: Session, now: datetime) -> str:
    """The countdown cell: `5h 12m`, `9m 03s`, `expired 3m ago`, `closed`, `never`."""
    status = session.effective_status(now)
    if status == SessionStatus.CLOSED:
        return "closed"
    left = session.time_left(now)
    if left is None:
        return "never"
    if status == SessionStatus.EXPIRED:
        ago = -left
        if ago < timedelta(minutes=1):
            return f"expired {int(ago.total_seconds())}s ago"
        if ago < timedelta(hours=1):
            return f"expired {int(ago.total_seconds() // 60)}m ago"
        return f"expired {format_duration(ago)} ago"
    return format_duration(left)
