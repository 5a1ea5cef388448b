"""Memories as the store's context rows: `time` is (time, seq).

The context engine only sorts by `time`; the store hands it (time, insertion order),
so the memories of one time (a batch) keep the order they were stored in. A `Memory`
has no seq (its id breaks such ties). Tests that compare the engine on listed memories
with the store's own build give it these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select

from memtui.domain.models import Memory
from memtui.store import SqlStore
from memtui.store.tables import MemoryTable


class SequencedRow(NamedTuple):
    id: str
    time: tuple[Any, int]
    content: str
    memory_type: str
    event_type: str
    importance: float | None
    seq: int


def with_insertion_order(store: SqlStore, memories: Iterable[Memory]) -> list[SequencedRow]:
    table = MemoryTable.__table__
    with store.engine.connect() as conn:
        seqs = {row[0]: row[1] for row in conn.execute(select(table.c.id, table.c.seq))}
        conn.rollback()
    rows = []
    for m in memories:
        seq = seqs[m.id]
        rows.append(
            SequencedRow(
                m.id, (m.time, seq), m.content, m.memory_type, m.event_type, m.importance, seq
            )
        )
    return rows
