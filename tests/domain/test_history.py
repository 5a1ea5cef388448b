"""memtui.domain.history: revisions from changes, replay to a time, and the diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from memtui.domain.history import (
    HistoryTarget,
    json_diff,
    revision_changes,
    revisions_from_changes,
    state_at,
    word_diff,
)
from memtui.domain.models import Change

T0 = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def _change(n: int, kind: str, entity_id: str, data, *, session_id="s1", actor="cli") -> Change:
    return Change(
        id=n,
        kind=kind,
        entity_id=entity_id,
        at=T0 + timedelta(minutes=n),
        session_id=session_id,
        data=data,
        actor=actor,
    )


@given(st.text(), st.text())
def test_word_diff_rebuilds_both_sides(before: str, after: str) -> None:
    spans = word_diff(before, after)
    assert "".join(s.text for s in spans if s.op != "added") == before
    assert "".join(s.text for s in spans if s.op != "removed") == after


def test_word_diff_marks_words() -> None:
    spans = word_diff("use JWT with long expiry", "use JWT with short expiry")
    assert [(s.op, s.text) for s in spans if s.op != "same"] == [
        ("removed", "long"),
        ("added", "short"),
    ]


def test_json_diff_paths() -> None:
    before = {"a": 1, "m": {"x": [1, 2]}, "gone": True}
    after = {"a": 2, "m": {"x": [1, 3, 4]}, "new": None}
    found = {(c.path, c.op, c.before, c.after) for c in json_diff(before, after)}
    assert found == {
        ("a", "changed", 1, 2),
        ("m.x[1]", "changed", 2, 3),
        ("m.x[2]", "added", None, 4),
        ("gone", "removed", True, None),
        ("new", "added", None, None),
    }
    assert json_diff({"a": 1}, {"a": 1}) == []
    assert json_diff(1, 1.0) != []  # a type change is a change


def test_memory_revisions_pair_before_and_after() -> None:
    v1 = {"id": "m1", "content": "draft one", "tags": []}
    v2 = {"id": "m1", "content": "draft two", "tags": ["x"]}
    changes = [
        _change(1, "memory.created", "m1", v1, actor="tui"),
        _change(2, "memory.created", "m2", {"id": "m2"}),
        _change(3, "memory.updated", "m1", v2, actor="mcp:claude"),
        _change(4, "memory.deleted", "m1", v2, actor="admin-key"),
    ]
    revisions = revisions_from_changes(HistoryTarget.memory("m1"), changes)
    assert [(r.action, r.actor) for r in revisions] == [
        ("created", "tui"),
        ("updated", "mcp:claude"),
        ("deleted", "admin-key"),
    ]
    assert revisions[1].before == v1 and revisions[1].after == v2
    assert revisions[2].before == v2 and revisions[2].after is None
    words, fields = revision_changes(revisions[1])
    assert words is not None and any(s.op == "added" and s.text == "two" for s in words)
    assert [(f.path, f.op) for f in fields] == [("tags[0]", "added")]


def test_key_revisions_follow_renames() -> None:
    def item(key: str, version: int, value) -> dict:
        return {"session_id": "s1", "key": key, "value": value, "version": version}

    changes = [
        _change(1, "working_memory.changed", "plan", {**item("plan", 1, [1]), "op": "set"}),
        _change(2, "working_memory.changed", "plan", {**item("plan", 2, [1, 2]), "op": "set"}),
        _change(
            3,
            "working_memory.changed",
            "goal",
            {**item("goal", 3, [1, 2]), "op": "rename", "old_key": "plan"},
        ),
        _change(4, "working_memory.changed", "goal", {**item("goal", 3, [1, 2]), "op": "delete"}),
    ]
    plan = revisions_from_changes(HistoryTarget.key("s1", "plan"), changes)
    assert [r.action for r in plan] == ["created", "updated", "renamed_to"]
    assert plan[1].before["value"] == [1] and plan[1].after["value"] == [1, 2]
    assert "op" not in plan[1].after
    goal = revisions_from_changes(HistoryTarget.key("s1", "goal"), changes)
    assert [r.action for r in goal] == ["renamed_from", "deleted"]
    assert goal[1].before["version"] == 3 and goal[1].after is None


def test_state_at_replays_to_the_time() -> None:
    changes = [
        _change(1, "memory.created", "m1", {"id": "m1", "content": "a"}),
        _change(2, "memory.updated", "m1", {"id": "m1", "content": "b"}),
        _change(3, "memory.deleted", "m1", {"id": "m1", "content": "b"}),
    ]
    assert state_at(changes, T0) == {}
    assert state_at(changes, T0 + timedelta(minutes=1))["m1"]["content"] == "a"
    assert state_at(changes, T0 + timedelta(minutes=2))["m1"]["content"] == "b"
    assert state_at(changes, T0 + timedelta(minutes=3)) == {}
