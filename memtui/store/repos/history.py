"""History: the revisions of one object, read from the change feed (every change row
holds the object's JSON after it and, from schema 5, its actor), and the retention that
compacts old history.

Reads use the index on (entity_id, id); a working-memory key's history also reads its
session's later working-memory changes when the key was renamed away.

Retention (`compact`): changes older than the cutoff are dropped, except each object's
newest one before the cutoff, kept as the baseline its later revisions start from; an
object whose newest change before the cutoff deleted it (it has been in the trash longer
than the retention) loses all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, select

from memtui.domain.history import (
    Entity,
    HistoryTarget,
    Revision,
    entity_of,
    revisions_from_changes,
    state_at,
)
from memtui.domain.models import Change, ChangeKind, Memory
from memtui.store.engine import Database, Tx
from memtui.store.rows import change_t, wm_t

CHANGE_COLUMNS = (
    change_t.c.id,
    change_t.c.kind,
    change_t.c.entity_id,
    change_t.c.at,
    change_t.c.agent_id,
    change_t.c.session_id,
    change_t.c.data,
    change_t.c.actor,
)

_DELETE_CHUNK = 500


def change_from_row(row: tuple) -> Change:
    return Change(*row)


class HistoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def history(self, target: HistoryTarget) -> list[Revision]:
        target.check()

        def op(tx: Tx) -> list[Change]:
            conn = tx.conn
            if target.entity == Entity.WORKING_MEMORY:
                rows = conn.execute(
                    select(*CHANGE_COLUMNS)
                    .where(
                        change_t.c.entity_id == target.id,
                        change_t.c.kind == ChangeKind.WORKING_MEMORY_CHANGED.value,
                        change_t.c.session_id == target.session_id,
                    )
                    .order_by(change_t.c.id)
                )
                changes = [change_from_row(r) for r in rows]
                exists = conn.execute(
                    select(wm_t.c.key).where(
                        wm_t.c.session_id == target.session_id, wm_t.c.key == target.id
                    )
                ).first()
                last = changes[-1] if changes else None
                if last is not None and exists is None and (last.data or {}).get("op") != "delete":
                    # Renamed away: the rename is a change of the new key, after `last`.
                    later = conn.execute(
                        select(*CHANGE_COLUMNS)
                        .where(
                            change_t.c.id > last.id,
                            change_t.c.session_id == target.session_id,
                            change_t.c.kind == ChangeKind.WORKING_MEMORY_CHANGED.value,
                        )
                        .order_by(change_t.c.id)
                    )
                    for row in later:
                        change = change_from_row(row)
                        if (change.data or {}).get("old_key") == target.id:
                            changes.append(change)
                            break
                return changes
            rows = conn.execute(
                select(*CHANGE_COLUMNS)
                .where(
                    change_t.c.entity_id == target.id,
                    change_t.c.kind.like(f"{target.entity}.%"),
                )
                .order_by(change_t.c.id)
            )
            return [change_from_row(r) for r in rows]

        return revisions_from_changes(target, self.db.read(op))

    def memories_as_of(self, session_id: str, at: datetime) -> list[Memory]:
        """The session's memories at `at`, replayed from its memory changes up to then;
        newest first, then the latest inserted (the list order)."""

        def op(tx: Tx) -> list[Change]:
            rows = tx.conn.execute(
                select(*CHANGE_COLUMNS)
                .where(
                    change_t.c.session_id == session_id,
                    change_t.c.kind.like("memory.%"),
                    change_t.c.at <= at,
                )
                .order_by(change_t.c.id)
            )
            return [change_from_row(r) for r in rows]

        state = state_at(self.db.read(op), at)
        memories = [Memory.from_json(data) for data in state.values()]
        ranked = list(enumerate(memories))  # replay order: the insertion order
        ranked.sort(key=lambda item: (item[1].time, item[0]), reverse=True)
        return [memory for _, memory in ranked]

    def compact(self, before: datetime) -> int:
        """Drops the history older than `before` (see the module docstring); returns
        how many change rows went."""

        def op(tx: Tx) -> int:
            conn = tx.conn
            newest: dict[tuple[str, str | None, str], tuple[int, bool]] = {}
            doomed: list[int] = []
            rows = conn.execute(
                select(
                    change_t.c.id,
                    change_t.c.kind,
                    change_t.c.entity_id,
                    change_t.c.session_id,
                    # Only a key's change says in its data whether it deleted.
                    case(
                        (
                            change_t.c.kind == ChangeKind.WORKING_MEMORY_CHANGED.value,
                            change_t.c.data,
                        ),
                        else_=None,
                    ),
                )
                .where(change_t.c.at < before)
                .order_by(change_t.c.id)
            )
            for change_id, kind, entity_id, session_id, data in rows:
                family = entity_of(kind)
                key = (family, session_id if family == Entity.WORKING_MEMORY else None, entity_id)
                if family == Entity.WORKING_MEMORY:
                    gone = (data or {}).get("op") == "delete"
                else:
                    gone = kind.endswith(".deleted")
                previous = newest.get(key)
                if previous is not None:
                    doomed.append(previous[0])
                newest[key] = (change_id, gone)
            doomed.extend(change_id for change_id, gone in newest.values() if gone)
            doomed.sort()
            for start in range(0, len(doomed), _DELETE_CHUNK):
                chunk = doomed[start : start + _DELETE_CHUNK]
                conn.execute(delete(change_t).where(change_t.c.id.in_(chunk)))
            return len(doomed)

        return self.db.write(op, emit=False)
