"""Time windows: relative durations in every unit, ISO 8601 forms, and bad values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from memtui.domain.errors import InvalidInputError
from memtui.domain.timewindow import parse_duration, parse_time_bound

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("0m", timedelta(0)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("1.5h", timedelta(minutes=90)),
        (" 4h ", timedelta(hours=4)),
    ],
)
def test_durations_in_every_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_time_bound(text, NOW) == NOW - expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),  # naive is UTC
        ("2026-03-01 10:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T12:30:00+02:00", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("2026-03-01T10:00:00.250Z", datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)),
        ("20260301T100000Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_iso_8601_forms_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_time_bound(text, NOW, field="until")
    assert parsed == expected
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)


def test_relative_bound_uses_the_given_now_even_if_it_is_not_utc() -> None:
    local_now = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert parse_time_bound("2h", local_now) == NOW - timedelta(hours=2)
    assert parse_time_bound("2h", local_now).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["4 hours", "", "   ", "2x", "h", "-2h", "yesterday", "2026-13-01", "3M", "7dd"]
)
def test_bad_since_names_field_and_value(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_time_bound(text, NOW, field="since")
    error = caught.value
    assert error.field == "since"
    assert error.value == text
    assert str(error) == (
        f"invalid since {text!r}: use a relative duration (30s, 30m, 2h, 7d, 1w) "
        "or an ISO 8601 time"
    )


def test_bad_until_names_until() -> None:
    with pytest.raises(InvalidInputError, match=r"^invalid until 'soon'") as caught:
        parse_time_bound("soon", NOW, field="until")
    assert caught.value.field == "until"


@pytest.mark.parametrize("text", ["99999999999w", "0001-01-01T00:00:00+05:00"])
def test_out_of_range_values_are_input_errors_not_crashes(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_time_bound(text, NOW)
    assert text in str(caught.value)


def test_parse_duration_rejects_iso_and_names_field() -> None:
    with pytest.raises(InvalidInputError, match=r"invalid lookback '2026-03-01'") as caught:
        parse_duration("2026-03-01", field="lookback")
    assert caught.value.field == "lookback"
