"""The plain Memtrace stand-in (tests/helpers/plain_memtrace.py) shapes memories and
sessions as Memtrace does. (memtui's own shape is Memory.to_json: tests/domain.)"""

from __future__ import annotations

from datetime import UTC, datetime

from memtui.domain.models import Memory, Session
from tests.helpers.plain_memtrace import memtrace_memory_json, memtrace_session_json

AT = datetime(2026, 3, 14, 15, 9, 26, 123456, tzinfo=UTC)


def test_memtrace_shapes_drop_extensions_and_empty_fields() -> None:
    bare = memtrace_memory_json(Memory(id="mem_2", time=AT, agent_id="a", content="c"))
    assert bare == {
        "time": "2026-03-14T15:09:26.123456Z",
        "agent_id": "a",
        "content": "c",
        "memory_type": "episodic",
        "event_type": "general",
        "org_id": "org_default",
    }
    session = Session(
        id="sess_1", agent_id="a", status="active", created_at=AT, updated_at=AT, expires_at=AT
    )
    shaped = memtrace_session_json(session)
    assert "expires_at" not in shaped and "session_id" not in shaped and "id" in shaped
