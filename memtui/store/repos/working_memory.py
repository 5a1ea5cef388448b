"""Working memory: a session's versioned key/value notes. Writes take an expected
version (0: must not exist) so two editors never overwrite each other unseen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from memtui.domain import validation as check
from memtui.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from memtui.domain.history import Entity
from memtui.domain.models import (
    DEFAULT_WORKING_MEMORY_IMPORTANCE,
    ChangeKind,
    WorkingMemoryItem,
)
from memtui.store.engine import Database, Tx
from memtui.store.repos.sessions import get_session
from memtui.store.repos.trash import put_in_trash
from memtui.store.rows import MAX_VERSION, WM_COLUMNS, wm_item_from, wm_t


def get_item(conn: Connection, session_id: str, key: str) -> WorkingMemoryItem | None:
    row = conn.execute(
        select(*WM_COLUMNS).where(wm_t.c.session_id == session_id, wm_t.c.key == key)
    ).first()
    return None if row is None else wm_item_from(row)


def version_conflict(
    conn: Connection, session_id: str, key: str, expected: int
) -> VersionConflictError:
    current = get_item(conn, session_id, key)
    if current is None:
        message = f"working-memory key {key!r} was deleted meanwhile (you had version {expected})"
    elif expected == 0:
        message = f"working-memory key {key!r} already exists (version {current.version})"
    else:
        message = (
            f"working-memory key {key!r} changed meanwhile: you had version {expected}, "
            f"it is now at version {current.version}"
        )
    return VersionConflictError(message, current=current, expected_version=expected)


def emit_item(tx: Tx, agent_id: str, item: WorkingMemoryItem, op: str, **extra: Any) -> None:
    data = item.to_json()
    data.update(op=op, **extra)
    tx.emit(
        ChangeKind.WORKING_MEMORY_CHANGED,
        item.key,
        agent_id=agent_id,
        session_id=item.session_id,
        data=data,
    )


def check_expected(expected_version: int | None) -> None:
    if expected_version is not None and (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or not 0 <= expected_version <= MAX_VERSION
    ):
        raise InvalidInputError(
            f"expected_version must be a whole number from 0 to {MAX_VERSION}, "
            f"got {expected_version!r}",
            field="expected_version",
            value=expected_version,
        )


class WorkingMemoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        def op(tx: Tx) -> list[WorkingMemoryItem]:
            get_session(tx.conn, session_id)
            rows = tx.conn.execute(
                select(*WM_COLUMNS).where(wm_t.c.session_id == session_id).order_by(wm_t.c.key)
            )
            return [wm_item_from(r) for r in rows]

        return self.db.read(op)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        def op(tx: Tx) -> WorkingMemoryItem:
            get_session(tx.conn, session_id)
            item = get_item(tx.conn, session_id, key)
            if item is None:
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            return item

        return self.db.read(op)

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        check.check_text("key", key, max_length=500)
        value = check.check_json("value", value)
        importance = check.check_importance(importance)
        check_expected(expected_version)

        def op(tx: Tx) -> WorkingMemoryItem:
            conn = tx.conn
            session = get_session(conn, session_id)
            where = (wm_t.c.session_id == session_id, wm_t.c.key == key)
            changes: dict[str, Any] = {
                "value": value,
                "version": wm_t.c.version + 1,
                "updated_at": tx.now,
            }
            if importance is not None:
                changes["importance"] = importance
            if expected_version == 0 or expected_version is None:
                inserted = conn.execute(
                    self.db.insert_ignore(wm_t).values(
                        session_id=session_id,
                        key=key,
                        value=value,
                        importance=DEFAULT_WORKING_MEMORY_IMPORTANCE
                        if importance is None
                        else importance,
                        version=1,
                        updated_at=tx.now,
                    )
                ).first()
                if not inserted:
                    if expected_version == 0:
                        raise version_conflict(conn, session_id, key, 0)
                    conn.execute(update(wm_t).where(*where).values(**changes))
            else:
                # Conditional UPDATE: of two racing writers only one matches the version.
                updated = conn.execute(
                    update(wm_t).where(*where, wm_t.c.version == expected_version).values(**changes)
                ).rowcount
                if not updated:
                    raise version_conflict(conn, session_id, key, expected_version)
            item = get_item(conn, session_id, key)
            assert item is not None
            emit_item(tx, session.agent_id, item, "set")
            return item

        return self.db.write(op)

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        check.check_text("new_key", new_key, max_length=500)
        check_expected(expected_version)

        def op(tx: Tx) -> WorkingMemoryItem:
            conn = tx.conn
            session = get_session(conn, session_id)
            current = get_item(conn, session_id, key)
            if current is None:
                if expected_version is not None:
                    raise version_conflict(conn, session_id, key, expected_version)
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            if expected_version is not None and current.version != expected_version:
                raise version_conflict(conn, session_id, key, expected_version)
            if new_key == key:
                return current
            if get_item(conn, session_id, new_key) is not None:
                raise ConflictError(f"working-memory key {new_key!r} already exists")
            updated = conn.execute(
                update(wm_t)
                .where(
                    wm_t.c.session_id == session_id,
                    wm_t.c.key == key,
                    wm_t.c.version == current.version,
                )
                .values(key=new_key, version=current.version + 1, updated_at=tx.now)
            ).rowcount
            if not updated:
                raise version_conflict(conn, session_id, key, current.version)
            item = get_item(conn, session_id, new_key)
            assert item is not None
            emit_item(tx, session.agent_id, item, "rename", old_key=key)
            return item

        return self.db.write(op)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        check_expected(expected_version)

        def op(tx: Tx) -> None:
            conn = tx.conn
            session = get_session(conn, session_id)
            current = get_item(conn, session_id, key)
            if current is None:
                if expected_version is not None:
                    raise version_conflict(conn, session_id, key, expected_version)
                raise NotFoundError(f"working-memory key {key!r} not found in {session_id!r}")
            stmt = delete(wm_t).where(wm_t.c.session_id == session_id, wm_t.c.key == key)
            if expected_version is not None:
                stmt = stmt.where(wm_t.c.version == expected_version)
            if not conn.execute(stmt).rowcount:
                raise version_conflict(conn, session_id, key, expected_version or 0)
            emit_item(tx, session.agent_id, current, "delete")
            put_in_trash(
                tx,
                Entity.WORKING_MEMORY.value,
                key,
                current.to_json(),
                session_id=session_id,
                agent_id=session.agent_id,
            )

        self.db.write(op)
