"""Everything a store holds, as JSON, read through the Backend protocol only."""

from __future__ import annotations

from typing import Any

from memtui.domain.models import MemoryQuery


def dump_store(store: Any) -> dict[str, Any]:
    sessions = sorted(store.list_sessions(), key=lambda s: s.id)
    memories: list[Any] = []
    after = None
    while True:
        page = store.list_memories(MemoryQuery(limit=1000, after=after))
        memories.extend(page.memories)
        if not page.has_more:
            break
        after = page.next_cursor
    changes: list[Any] = []
    cursor = 0
    while batch := store.changes_since(cursor, limit=1000):
        changes.extend(batch)
        cursor = batch[-1].id
    return {
        "agents": [a.to_json() for a in sorted(store.list_agents(), key=lambda a: a.id)],
        "sessions": [s.to_json() for s in sessions],
        "memories": [m.to_json() for m in sorted(memories, key=lambda m: m.id)],
        "working_memory": {
            s.id: [i.to_json() for i in store.list_working_memory(s.id)] for s in sessions
        },
        "snapshots": {s.id: [x.to_json() for x in store.list_snapshots(s.id)] for s in sessions},
        "changes": [c.to_json() for c in changes],
    }
