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


class FileClock:
    """Reads "now" from a file holding an ISO 8601 time, so a test can control the clock
    of another process (`memtui serve` honours MEMTUI_CLOCK_FILE). Test-only."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> datetime:
        with open(self.path, encoding="utf-8") as handle:
            return ensure_utc(datetime.fromisoformat(handle.read().strip()))

    def set(self, at: datetime) -> None:
        import os

        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(ensure_utc(at).isoformat())
        os.replace(tmp, self.path)

    @property
    def now(self) -> datetime:
        return self()

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.set(self() + timedelta(**delta))


def clock_from_environment() -> Clock:
    """The real clock, unless MEMTUI_CLOCK_FILE points at a test clock file."""
    import os

    path = os.environ.get("MEMTUI_CLOCK_FILE")
    return FileClock(path) if path else utc_now
