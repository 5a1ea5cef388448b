"""Time windows: `since`/`until` as a relative duration or an ISO 8601 time.

Relative durations are what Memtrace accepts (`30m`, `2h`, `7d`) plus `s` and `w`, and
combinations of them (`1h30m`, `1d 12h`). A relative bound means "that long before now".
ISO 8601 accepts a date (`2026-03-14`, midnight UTC) or a date and time, with `Z`, an
offset, or nothing (naive times are UTC). Every result is an aware UTC datetime.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from memtui.domain.clock import ensure_utc
from memtui.domain.errors import InvalidInputError

ACCEPTED_DURATIONS = "30s, 30m, 2h, 7d, 1w"

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# One or more "<number><unit>" parts, optionally separated by spaces: 2h, 1h30m, 1d 12h.
_PART = r"(\d+(?:\.\d+)?)\s*([smhdw])"
_DURATION = re.compile(rf"(?:{_PART}\s*)+")
_DURATION_PART = re.compile(_PART)


def _duration_or_none(text: str) -> timedelta | None:
    """The duration `text` spells, None if it is not a duration at all."""
    stripped = text.strip()
    if not stripped or not _DURATION.fullmatch(stripped):
        return None
    seconds = sum(
        float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(stripped)
    )
    return timedelta(seconds=seconds)


def parse_duration(text: str, *, field: str = "duration") -> timedelta:
    """`30s`, `30m`, `2h`, `7d`, `1w`, or combinations such as `1h30m`."""
    try:
        duration = _duration_or_none(text) if isinstance(text, str) else None
    except OverflowError:
        raise InvalidInputError(
            f"invalid {field} {text!r}: that duration is too large", field=field, value=text
        ) from None
    if duration is None:
        raise InvalidInputError(
            f"invalid {field} {text!r}: use a duration such as {ACCEPTED_DURATIONS}",
            field=field,
            value=text,
        )
    return duration


def parse_time_bound(text: str, now: datetime, *, field: str = "since") -> datetime:
    """A window bound: relative (`now - duration`) or ISO 8601; aware UTC."""
    accepted = f"use a relative duration ({ACCEPTED_DURATIONS}) or an ISO 8601 time"
    if not isinstance(text, str):
        raise InvalidInputError(f"invalid {field} {text!r}: {accepted}", field=field, value=text)
    try:
        duration = _duration_or_none(text)
        if duration is not None:
            return ensure_utc(now) - duration
    except OverflowError:
        raise InvalidInputError(
            f"invalid {field} {text!r}: that duration is too large", field=field, value=text
        ) from None
    stripped = text.strip()
    try:
        # Python 3.11 reads dates, date-times, `Z`, offsets and the basic format.
        return ensure_utc(datetime.fromisoformat(stripped))
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"invalid {field} {text!r}: {accepted}", field=field, value=text
        ) from None
