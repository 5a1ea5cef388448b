"""The filter grammars (memtui.domain.filters): memories (the timeline, the CLI, the MCP
server) and sessions (the session list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memtui.domain.errors import InvalidInputError
from memtui.domain.filters import MemoryFilter, SessionFilter
from memtui.domain.models import MemoryCursor, MemoryQuery, Session

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


def test_every_key_and_the_free_text() -> None:
    parsed = MemoryFilter.parse(
        "type:decision,entity -type:session tag:auth,db event:error since:2h until:30m "
        "imp:0.5 login bug",
        NOW,
    )
    assert parsed == MemoryFilter(
        memory_types=("decision", "entity"),
        exclude_types=("session",),
        tags=("auth", "db"),
        event_types=("error",),
        since=NOW - timedelta(hours=2),
        until=NOW - timedelta(minutes=30),
        min_importance=0.5,
        text="login bug",
    )
    assert parsed.active


def test_repeated_keys_add_up_and_keys_are_case_insensitive() -> None:
    parsed = MemoryFilter.parse("TYPE:decision type:entity Tag:a tag:b", NOW)
    assert parsed.memory_types == ("decision", "entity")
    assert parsed.tags == ("a", "b")


def test_iso_times_and_empty_lists() -> None:
    parsed = MemoryFilter.parse("since:2026-03-14T10:00:00Z type: tag:,", NOW)
    assert parsed.since == datetime(2026, 3, 14, 10, tzinfo=UTC)
    assert parsed.memory_types == () and parsed.tags == ()


def test_unknown_keys_and_odd_words_are_free_text_kept_literally() -> None:
    line = "owner:bob [WIP] arr[0 \x1b[2J"
    parsed = MemoryFilter.parse(line, NOW)
    assert parsed.text == "owner:bob [WIP] arr[0 \x1b[2J"
    assert parsed.memory_types == ()


def test_an_empty_line_is_no_filter() -> None:
    assert MemoryFilter.parse("   ", NOW) == MemoryFilter()
    assert not MemoryFilter().active


@pytest.mark.parametrize(
    ("line", "field"),
    [("since:yesterdayish", "since"), ("until:soon", "until"), ("imp:high", "imp")],
)
def test_a_bad_value_names_its_key(line: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        MemoryFilter.parse(line, NOW)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_apply_keeps_scope_and_paging() -> None:
    cursor = MemoryCursor(time=NOW, id="mem_1")
    base = MemoryQuery(session_id="s1", limit=7, after=cursor, order="asc")
    query = MemoryFilter.parse("type:decision -type:x tag:t event:error imp:0.2 hello", NOW).apply(
        base
    )
    assert (query.session_id, query.limit, query.after, query.order) == ("s1", 7, cursor, "asc")
    assert query.memory_types == ("decision",)
    assert query.exclude_types == ("x",)
    assert query.tags == ("t",)
    assert query.event_types == ("error",)
    assert query.min_importance == 0.2
    assert query.content_contains == "hello"
    assert MemoryFilter().apply(base).content_contains is None


# --- sessions ----------------------------------------------------------------------------


def _session(session_id: str, agent_id: str, **fields: object) -> Session:
    start = NOW - timedelta(hours=1)
    return Session(
        id=session_id,
        agent_id=agent_id,
        status="active",
        created_at=start,
        updated_at=start,
        **fields,  # type: ignore[arg-type]
    )


def test_session_filter_parsing() -> None:
    parsed = SessionFilter.parse("agent:Claude status:active hello World")
    assert parsed == SessionFilter(agent="claude", status="active", text="hello world")
    assert SessionFilter.parse("") == SessionFilter()


def test_an_unknown_session_status_names_the_key() -> None:
    with pytest.raises(InvalidInputError) as raised:
        SessionFilter.parse("status:sleepy")
    assert raised.value.field == "status"
    assert "active, closed, expired, expiring" in str(raised.value)


def test_session_filter_matches_agent_status_and_text() -> None:
    soon = _session("sess_soon", "claude-code", expires_at=NOW + timedelta(minutes=20))
    later = _session(
        "sess_later", "cursor", expires_at=NOW + timedelta(hours=5), metadata={"task": "Deploy"}
    )
    gone = _session("sess_gone", "claude-code", expires_at=NOW - timedelta(minutes=1))
    sessions = [soon, later, gone]

    def shown(line: str) -> list[str]:
        parsed = SessionFilter.parse(line)
        return [s.id for s in sessions if parsed.matches(s, NOW)]

    assert shown("agent:CLAUDE") == ["sess_soon", "sess_gone"]
    assert shown("status:expiring") == ["sess_soon"]
    assert shown("status:expired") == ["sess_gone"]
    assert shown("status:active") == ["sess_soon", "sess_later"]
    assert shown("deploy") == ["sess_later"]
