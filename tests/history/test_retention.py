"""Retention: history older than the cutoff is compacted to each object's baseline, the
trash older than it is emptied (with its history), newer history stays whole; the
context as of any time after the cutoff is unchanged by compaction."""

from __future__ import annotations

import pytest

from memtui.domain.clock import ManualClock
from memtui.domain.errors import InvalidInputError
from memtui.domain.history import HistoryTarget
from memtui.domain.models import ContextRequest, MemoryPatch, NewMemory
from memtui.store import SqlStore
from memtui.store.retention import compact, retention_days
from tests.conftest import FROZEN_NOW


def test_compaction_keeps_the_baseline_and_recent_history(tmp_path) -> None:
    clock = ManualClock(FROZEN_NOW)
    store = SqlStore(f"sqlite:///{tmp_path / 'r.db'}", clock=clock)
    try:
        session = store.create_session("a", ttl=None)
        kept, gone = store.add_memories(
            [
                NewMemory(agent_id="a", session_id=session.id, content="v1"),
                NewMemory(agent_id="a", session_id=session.id, content="old and deleted"),
            ]
        )
        store.update_memory(kept.id, MemoryPatch(content="v2"))
        store.delete_memories([gone.id])
        clock.advance(days=40)
        store.update_memory(kept.id, MemoryPatch(content="v3"))
        at = clock.now
        before = store.build_context(session.id, ContextRequest(as_of=at.isoformat()))

        changes, items = compact(store, 30)
        assert items == 1 and store.list_trash() == []
        assert changes == 1  # kept.created; the deleted one went with the trash
        assert store.history(HistoryTarget.memory(gone.id)) == []
        revisions = store.history(HistoryTarget.memory(kept.id))
        assert [r.action for r in revisions] == ["updated", "updated"]
        assert revisions[0].before is None and revisions[0].after["content"] == "v2"
        assert revisions[1].before["content"] == "v2" and revisions[1].after["content"] == "v3"
        after = store.build_context(session.id, ContextRequest(as_of=at.isoformat()))
        assert after.context == before.context
        assert compact(store, 30) == (0, 0)  # nothing more to do
    finally:
        store.close()


def test_retention_days_from_env_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert retention_days({}) == 30
    assert retention_days({"history_retention_days": 7}) == 7
    monkeypatch.setenv("MEMTUI_HISTORY_RETENTION_DAYS", "2.5")
    assert retention_days({"history_retention_days": 7}) == 2.5
    monkeypatch.setenv("MEMTUI_HISTORY_RETENTION_DAYS", "-1")
    with pytest.raises(InvalidInputError, match="retention"):
        retention_days({})
