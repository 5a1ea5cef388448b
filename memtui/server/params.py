"""Turning query/body strings into domain values, with errors that name the field."""

from __future__ import annotations

from datetime import datetime, timedelta

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import MemoryCursor


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma list (`a,b`) as a tuple, blanks dropped."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_time(field: str, value: str | None, now: datetime) -> datetime | None:
    """`since`/`until`: relative (`30m`, `2h`, `7d`, `45s`, `1w`) or ISO 8601."""
    if value is None or value == "":
        return None
    from memtui.domain.timewindow import parse_time_bound

    try:
        return parse_time_bound(value, now, field=field)
    except InvalidInputError:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"{field} {value!r} is neither a relative time (30m, 2h, 7d) nor ISO 8601",
            field=field,
            value=value,
        ) from exc


def parse_duration(field: str, value: str) -> timedelta:
    from memtui.domain.timewindow import parse_duration as domain_parse_duration

    try:
        return domain_parse_duration(value, field=field)
    except InvalidInputError:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"{field} {value!r} is not a duration like 30m, 24h or 7d", field=field, value=value
        ) from exc


def parse_cursor(value: str | None) -> MemoryCursor | None:
    if not value:
        return None
    try:
        return MemoryCursor.decode(value)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"invalid after cursor {value!r} (use next_cursor from a previous page)",
            field="after",
            value=value,
        ) from exc
