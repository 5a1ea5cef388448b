"""One wire shape per memory: Memory.to_json, which the server, the change feed, the CLI
and the MCP server all use, is built field by field for speed; it must stay exactly
the generic dataclass shape, so a field added to Memory cannot be left out."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from memtui.domain.models import Memory, _JsonModel

AT = datetime(2026, 3, 14, 15, 9, 26, 123456, tzinfo=UTC)


def test_memory_to_json_is_the_dataclass_shape_field_for_field() -> None:
    full = Memory(
        id="mem_1",
        time=AT,
        agent_id="a",
        content="c",
        memory_type="decision",
        event_type="error",
        session_id="sess_1",
        tags=["x", "y"],
        importance=0.5,
        metadata={"k": [1, {"n": None}]},
        parent_id="mem_0",
        dedup_key="d",
        org_id="org",
    )
    bare = Memory(id="mem_2", time=AT, agent_id="a", content="c")
    for memory in (full, bare):
        generic = _JsonModel.to_json(memory)
        assert memory.to_json() == generic
        assert list(memory.to_json()) == [f.name for f in fields(Memory)]
        assert Memory.from_json(memory.to_json()) == memory


def test_the_tags_list_is_the_callers_own() -> None:
    memory = Memory(id="mem_1", time=AT, agent_id="a", content="c", tags=["x"])
    memory.to_json()["tags"].append("changed")
    assert memory.tags == ["x"]
