"""The trash: deleted memories, sessions and working-memory keys, kept with everything
needed to put them back (same id, content, tags, links; a key with its version; a
session with its working memory and snapshots) until restored, purged, or older than
the retention.

`put_*` run inside the deleting transaction (so a delete and its trash row commit
together); `restore` puts the object back and records a `*.restored` change (a key's
as a working-memory `set` with op `restore`); `purge` deletes trash rows and the
object's history, for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from memtui.domain.actor import current_actor
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.history import Entity, TrashItem
from memtui.domain.models import (
    ChangeKind,
    Memory,
    Session,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.store.engine import Database, Tx
from memtui.store.rows import (
    agent_t,
    change_t,
    memory_t,
    session_t,
    snapshot_t,
    tag_t,
    trash_t,
    wm_t,
)

TRASH_COLUMNS = (
    trash_t.c.id,
    trash_t.c.entity,
    trash_t.c.entity_id,
    trash_t.c.session_id,
    trash_t.c.agent_id,
    trash_t.c.deleted_at,
    trash_t.c.actor,
    trash_t.c.data,
)

_CHUNK = 500


def put_in_trash(
    tx: Tx,
    entity: str,
    entity_id: str,
    data: dict[str, Any],
    *,
    session_id: str | None,
    agent_id: str | None,
) -> None:
    tx.conn.execute(
        insert(trash_t).values(
            entity=entity,
            entity_id=entity_id,
            session_id=session_id,
            agent_id=agent_id,
            deleted_at=tx.now,
            actor=current_actor(),
            data=data,
        )
    )


def _require_agent(tx: Tx, agent_id: str, what: str) -> None:
    """A deleted agent took its sessions and memories with it; what is restored needs it."""
    found = tx.conn.execute(select(agent_t.c.id).where(agent_t.c.id == agent_id)).first()
    if found is None:
        raise ConflictError(f"{what}'s agent {agent_id!r} was deleted: not restored")


def _item(row: Sequence[Any]) -> TrashItem:
    return TrashItem(*row)


class TrashRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list_trash(self) -> list[TrashItem]:
        def op(tx: Tx) -> list[TrashItem]:
            rows = tx.conn.execute(select(*TRASH_COLUMNS).order_by(trash_t.c.id.desc()))
            return [_item(r) for r in rows]

        return self.db.read(op)

    def restore(self, item_id: int) -> TrashItem:
        def op(tx: Tx) -> TrashItem:
            conn = tx.conn
            row = conn.execute(select(*TRASH_COLUMNS).where(trash_t.c.id == item_id)).first()
            if row is None:
                raise NotFoundError(f"trash item {item_id!r} not found (restored or purged?)")
            item = _item(row)
            if item.entity == Entity.MEMORY:
                self._restore_memory(tx, item)
            elif item.entity == Entity.SESSION:
                self._restore_session(tx, item)
            else:
                self._restore_key(tx, item)
            conn.execute(delete(trash_t).where(trash_t.c.id == item_id))
            return item

        return self.db.write(op)

    def _restore_memory(self, tx: Tx, item: TrashItem) -> None:
        from memtui.store.repos.memories import memory_row  # memories imports us

        conn = tx.conn
        memory = Memory.from_json(item.data)
        if conn.execute(select(memory_t.c.id).where(memory_t.c.id == memory.id)).first():
            raise ConflictError(f"a memory with id {memory.id!r} exists again: not restored")
        _require_agent(tx, memory.agent_id, f"memory {memory.id!r}")
        row = memory_row(memory)
        if self.db.is_sqlite:
            last = conn.execute(select(func.coalesce(func.max(memory_t.c.seq), 0))).scalar()
            row["seq"] = int(last or 0) + 1
        conn.execute(insert(memory_t), [row])
        if memory.tags:
            conn.execute(insert(tag_t), [{"tag": t, "memory_id": memory.id} for t in memory.tags])
        tx.emit(
            ChangeKind.MEMORY_RESTORED,
            memory.id,
            agent_id=memory.agent_id,
            session_id=memory.session_id,
            data=memory.to_json(),
        )

    def _restore_session(self, tx: Tx, item: TrashItem) -> None:
        conn = tx.conn
        data = dict(item.data)
        wm = data.pop("working_memory", []) or []
        snapshots = data.pop("snapshots", []) or []
        session = Session.from_json(data)
        if conn.execute(select(session_t.c.id).where(session_t.c.id == session.id)).first():
            raise ConflictError(f"a session with id {session.id!r} exists again: not restored")
        _require_agent(tx, session.agent_id, f"session {session.id!r}")
        conn.execute(
            insert(session_t).values(
                id=session.id,
                agent_id=session.agent_id,
                status=session.status,
                created_at=session.created_at,
                updated_at=session.updated_at,
                expires_at=session.expires_at,
                closed_at=session.closed_at,
                workspace_id=session.workspace_id,
                metadata=session.metadata,
                org_id=session.org_id,
            )
        )
        for entry in wm:
            wm_item = WorkingMemoryItem.from_json(entry)
            conn.execute(insert(wm_t).values(**_wm_values(wm_item)))
        for entry in snapshots:
            snapshot = Snapshot.from_json(entry)
            conn.execute(
                insert(snapshot_t).values(
                    id=snapshot.id,
                    session_id=snapshot.session_id,
                    agent_id=snapshot.agent_id,
                    event=snapshot.event,
                    created_at=snapshot.created_at,
                    project_path=snapshot.project_path,
                    files_modified=snapshot.files_modified,
                    key_decisions=snapshot.key_decisions,
                    open_tasks=snapshot.open_tasks,
                )
            )
        tx.emit(
            ChangeKind.SESSION_RESTORED,
            session.id,
            agent_id=session.agent_id,
            session_id=session.id,
            data=session.to_json(tx.now),
        )

    def _restore_key(self, tx: Tx, item: TrashItem) -> None:
        conn = tx.conn
        wm_item = WorkingMemoryItem.from_json(item.data)
        session = conn.execute(
            select(session_t.c.agent_id).where(session_t.c.id == wm_item.session_id)
        ).first()
        if session is None:
            raise NotFoundError(
                f"session {wm_item.session_id!r} is gone: restore the session first"
            )
        exists = conn.execute(
            select(wm_t.c.key).where(
                wm_t.c.session_id == wm_item.session_id, wm_t.c.key == wm_item.key
            )
        ).first()
        if exists is not None:
            raise ConflictError(
                f"working-memory key {wm_item.key!r} exists again in {wm_item.session_id!r}: "
                "not restored"
            )
        conn.execute(insert(wm_t).values(**_wm_values(wm_item)))
        data = wm_item.to_json()
        data["op"] = "restore"
        tx.emit(
            ChangeKind.WORKING_MEMORY_CHANGED,
            wm_item.key,
            agent_id=session[0],
            session_id=wm_item.session_id,
            data=data,
        )

    def purge(self, item_ids: Sequence[int] | None) -> int:
        def op(tx: Tx) -> int:
            conn = tx.conn
            stmt = select(*TRASH_COLUMNS)
            if item_ids is not None:
                stmt = stmt.where(trash_t.c.id.in_(list(item_ids)))
            items = [_item(r) for r in conn.execute(stmt)]
            for item in items:
                _forget_history(tx, item)
            ids = [item.id for item in items]
            for start in range(0, len(ids), _CHUNK):
                conn.execute(delete(trash_t).where(trash_t.c.id.in_(ids[start : start + _CHUNK])))
            return len(ids)

        return self.db.write(op, emit=False)

    def expire(self, before: datetime) -> int:
        """Empties the trash of what was deleted before `before` (the retention)."""

        def op(tx: Tx) -> int:
            rows = tx.conn.execute(select(*TRASH_COLUMNS).where(trash_t.c.deleted_at < before))
            items = [_item(r) for r in rows]
            for item in items:
                _forget_history(tx, item)
            ids = [item.id for item in items]
            for start in range(0, len(ids), _CHUNK):
                tx.conn.execute(
                    delete(trash_t).where(trash_t.c.id.in_(ids[start : start + _CHUNK]))
                )
            return len(ids)

        return self.db.write(op, emit=False)


def _forget_history(tx: Tx, item: TrashItem) -> None:
    """A purged object's history goes too (its content is in it), unless the object
    exists again (restored from another trash item, or made anew with the same id)."""
    conn = tx.conn
    if item.entity == Entity.WORKING_MEMORY:
        exists = conn.execute(
            select(wm_t.c.key).where(
                wm_t.c.session_id == item.session_id, wm_t.c.key == item.entity_id
            )
        ).first()
        where = [
            change_t.c.entity_id == item.entity_id,
            change_t.c.kind == ChangeKind.WORKING_MEMORY_CHANGED.value,
            change_t.c.session_id == item.session_id,
        ]
    else:
        table = memory_t if item.entity == Entity.MEMORY else session_t
        exists = conn.execute(select(table.c.id).where(table.c.id == item.entity_id)).first()
        where = [change_t.c.entity_id == item.entity_id, change_t.c.kind.like(f"{item.entity}.%")]
    if exists is None:
        conn.execute(delete(change_t).where(*where))


def _wm_values(item: WorkingMemoryItem) -> dict[str, Any]:
    return {
        "session_id": item.session_id,
        "key": item.key,
        "value": item.value,
        "importance": item.importance,
        "version": item.version,
        "updated_at": item.updated_at,
    }


__all__ = ["TrashRepo", "put_in_trash"]
