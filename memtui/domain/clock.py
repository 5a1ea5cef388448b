"""Time is timezone-aware UTC everywhere inside memtui; a Clock makes it injectable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC (that is how SQL stores hand them back)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def frozen_clock(at: datetime) -> Clock:
    fixed = ensure_utc(at)
    return lambda: fixed


class ManualClock:
    """A clock tests can move forward by hand."""

    def __init__(self, at: datetime) -> None:
        self.now = ensure_utc(at)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
