"""Snapshots: what a session recorded at a checkpoint (decisions, open tasks, files)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from memtui.domain import validation as check
from memtui.domain.clock import ensure_utc
from memtui.domain.errors import NotFoundError
from memtui.domain.models import ChangeKind, NewSnapshot, Snapshot, new_snapshot_id
from memtui.store.engine import Database, Tx
from memtui.store.repos.sessions import get_session
from memtui.store.rows import SNAPSHOT_COLUMNS, resolve_agent_id, snapshot_from, snapshot_t


def insert_snapshot(tx: Tx, snapshot: Snapshot) -> Snapshot:
    tx.conn.execute(
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
        ChangeKind.SNAPSHOT_CREATED,
        snapshot.id,
        agent_id=snapshot.agent_id,
        session_id=snapshot.session_id,
        data=snapshot.to_json(),
    )
    return snapshot


def checked_snapshot(snapshot: NewSnapshot) -> dict[str, Any]:
    check.check_snapshot_event(snapshot.event)
    check.check_optional_text("project_path", snapshot.project_path)
    return {
        "event": snapshot.event,
        "project_path": snapshot.project_path,
        "files_modified": check.check_string_list("files_modified", snapshot.files_modified),
        "key_decisions": check.check_string_list("key_decisions", snapshot.key_decisions),
        "open_tasks": check.check_string_list("open_tasks", snapshot.open_tasks),
    }


class SnapshotRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_snapshot(
        self, session_id: str, snapshot: NewSnapshot, *, created_at: datetime | None = None
    ) -> Snapshot:
        """`created_at` (not in the protocol) lets imports and the demo backdate it."""
        fields = checked_snapshot(snapshot)

        def op(tx: Tx) -> Snapshot:
            session = get_session(tx.conn, session_id)
            return insert_snapshot(
                tx,
                Snapshot(
                    id=new_snapshot_id(),
                    session_id=session_id,
                    agent_id=session.agent_id,
                    created_at=ensure_utc(created_at) if created_at else tx.now,
                    **fields,
                ),
            )

        return self.db.write(op)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        def op(tx: Tx) -> list[Snapshot]:
            get_session(tx.conn, session_id)
            rows = tx.conn.execute(
                select(*SNAPSHOT_COLUMNS)
                .where(snapshot_t.c.session_id == session_id)
                .order_by(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc())
            )
            return [snapshot_from(r) for r in rows]

        return self.db.read(op)

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        def op(tx: Tx) -> Snapshot:
            row = tx.conn.execute(
                select(*SNAPSHOT_COLUMNS).where(snapshot_t.c.id == snapshot_id)
            ).first()
            if row is None:
                raise NotFoundError(f"snapshot {snapshot_id!r} not found")
            return snapshot_from(row)

        return self.db.read(op)

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        def op(tx: Tx) -> Snapshot:
            stmt = select(*SNAPSHOT_COLUMNS)
            if agent_id is not None:
                stmt = stmt.where(snapshot_t.c.agent_id == resolve_agent_id(tx.conn, agent_id))
            row = tx.conn.execute(
                stmt.order_by(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc()).limit(1)
            ).first()
            if row is None:
                who = f" for agent {agent_id!r}" if agent_id else ""
                raise NotFoundError(f"no snapshot found{who}")
            return snapshot_from(row)

        return self.db.read(op)
