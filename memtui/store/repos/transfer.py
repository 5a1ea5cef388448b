"""Imports (`SqlStore.import_records`): objects stored exactly as exported, in one
transaction.

Ids, times, working-memory versions and the order of memories are kept; every insert
is a change in the feed, so a TUI watching the store sees the import as it lands. An
object whose id is taken is compared with the stored one: the same values count as
unchanged (importing twice adds nothing), other values are a conflict and the stored
object is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, tuple_

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import (
    Agent,
    ChangeKind,
    Memory,
    Session,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.transfer import ImportOutcome, Record, RecordKind, same_object
from memtui.store.repos.memories import memory_row
from memtui.store.repos.snapshots import insert_snapshot
from memtui.store.repos.working_memory import emit_item
from memtui.store.rows import (
    AGENT_COLUMNS,
    MEMORY_COLUMNS,
    SESSION_COLUMNS,
    SNAPSHOT_COLUMNS,
    WM_COLUMNS,
    agent_from,
    agent_t,
    memory_from,
    memory_t,
    session_from,
    session_t,
    snapshot_from,
    snapshot_t,
    tag_t,
    wm_item_from,
    wm_t,
)

if TYPE_CHECKING:
    from memtui.store.engine import Database, Tx
    from memtui.store.repos.agents import AgentRepo
    from memtui.store.repos.sessions import SessionRepo

# Ids per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 500


class TransferRepo:
    def __init__(self, db: Database, agents: AgentRepo, sessions: SessionRepo) -> None:
        self.db = db
        self.agents = agents
        self.sessions = sessions

    def import_records(self, records: Sequence[Record]) -> ImportOutcome:
        batch = list(records)
        if not batch:
            return ImportOutcome()
        return self.db.write(lambda tx: self._import(tx, batch))

    def _import(self, tx: Tx, records: list[Record]) -> ImportOutcome:
        by_kind: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
        for record in records:
            by_kind[record.kind].append(record)
        importer = _Importer(self, tx)
        # The order references need: agents, sessions, then what hangs on them.
        importer.agents(by_kind[RecordKind.AGENT])
        importer.sessions(by_kind[RecordKind.SESSION])
        importer.snapshots(by_kind[RecordKind.SNAPSHOT])
        importer.working_memory(by_kind[RecordKind.WORKING_MEMORY])
        importer.memories(by_kind[RecordKind.MEMORY])
        return ImportOutcome(importer.added, importer.unchanged, tuple(importer.conflicts))


class _Importer:
    """One batch in one transaction; counts what it added, found unchanged, or kept."""

    def __init__(self, repo: TransferRepo, tx: Tx) -> None:
        self.repo = repo
        self.tx = tx
        self.added = 0
        self.unchanged = 0
        self.conflicts: list[Record] = []

    # --- shared --------------------------------------------------------------------------

    def _stored(
        self, table: Any, columns: Sequence[Any], key_columns: Sequence[Any], keys: list[Any]
    ) -> dict[Any, Sequence[Any]]:
        """Stored rows by key, looked up in chunks."""
        found: dict[Any, Sequence[Any]] = {}
        single = len(key_columns) == 1
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            where = key_columns[0].in_(chunk) if single else tuple_(*key_columns).in_(chunk)
            for row in self.tx.conn.execute(select(*columns).where(where)):
                key = row[: len(key_columns)]
                found[key[0] if single else tuple(key)] = row
        return found

    def _split(
        self,
        records: list[Record],
        stored: dict[Any, Sequence[Any]],
        to_object: Callable[[Sequence[Any]], Any],
        key_of: Callable[[Record], Any],
    ) -> list[Record]:
        """The records to insert; the rest are counted unchanged or conflicting."""
        new: list[Record] = []
        seen: set[Any] = set()
        for record in records:
            key = key_of(record)
            if key in seen:
                raise InvalidInputError(
                    f"line {record.line}: {record.kind.value} {' '.join(record.key)} "
                    "appears twice in the file",
                    field="id",
                )
            seen.add(key)
            row = stored.get(key)
            if row is None:
                new.append(record)
            elif same_object(to_object(row), record.obj):
                self.unchanged += 1
            else:
                self.conflicts.append(record)
        return new

    def _require_sessions(self, records: Iterable[Record]) -> dict[str, str]:
        """agent id by session id, for every session the records name; a missing one
        is an error naming the line."""
        wanted = sorted({r.obj.session_id for r in records})  # type: ignore[union-attr]
        found = (
            {
                row[0]: row[1]
                for row in self.tx.conn.execute(
                    select(session_t.c.id, session_t.c.agent_id).where(session_t.c.id.in_(wanted))
                )
            }
            if wanted
            else {}
        )
        for record in records:
            session_id = record.obj.session_id  # type: ignore[union-attr]
            if session_id not in found:
                raise InvalidInputError(
                    f"line {record.line}: {record.kind.value} belongs to session "
                    f"{session_id!r}, which is not in the store",
                    field="session_id",
                    value=session_id,
                )
        return found

    # --- kinds ---------------------------------------------------------------------------

    def agents(self, records: list[Record]) -> None:
        if not records:
            return
        tx = self.tx
        ids = [r.obj.id for r in records]  # type: ignore[union-attr]
        stored = self._stored(agent_t, AGENT_COLUMNS, [agent_t.c.id], ids)
        for record in self._split(records, stored, agent_from, lambda r: r.obj.id):
            agent: Agent = record.obj  # type: ignore[assignment]
            inserted = tx.conn.execute(
                self.repo.db.insert_ignore(agent_t).values(
                    id=agent.id,
                    name=agent.name,
                    description=agent.description,
                    config=agent.config,
                    org_id=agent.org_id,
                    created_at=agent.created_at,
                )
            ).first()
            if not inserted:  # the name is taken by an agent with another id
                self.conflicts.append(record)
                continue
            tx.emit(ChangeKind.AGENT_CREATED, agent.id, agent_id=agent.id, data=agent.to_json())
            self.added += 1

    def sessions(self, records: list[Record]) -> None:
        if not records:
            return
        tx = self.tx
        ids = [r.obj.id for r in records]  # type: ignore[union-attr]
        stored = self._stored(session_t, SESSION_COLUMNS, [session_t.c.id], ids)
        for record in self._split(records, stored, session_from, lambda r: r.obj.id):
            session: Session = record.obj  # type: ignore[assignment]
            self.repo.agents.ensure_in(tx, session.agent_id)
            self.repo.sessions._insert(tx, session)
            self.added += 1

    def snapshots(self, records: list[Record]) -> None:
        if not records:
            return
        self._require_sessions(records)
        ids = [r.obj.id for r in records]  # type: ignore[union-attr]
        stored = self._stored(snapshot_t, SNAPSHOT_COLUMNS, [snapshot_t.c.id], ids)
        for record in self._split(records, stored, snapshot_from, lambda r: r.obj.id):
            snapshot: Snapshot = record.obj  # type: ignore[assignment]
            insert_snapshot(self.tx, snapshot)
            self.added += 1

    def working_memory(self, records: list[Record]) -> None:
        if not records:
            return
        tx = self.tx
        agent_of = self._require_sessions(records)
        keys = [r.key for r in records]
        stored = self._stored(wm_t, WM_COLUMNS, [wm_t.c.session_id, wm_t.c.key], keys)
        for record in self._split(records, stored, wm_item_from, lambda r: r.key):
            item: WorkingMemoryItem = record.obj  # type: ignore[assignment]
            tx.conn.execute(
                insert(wm_t).values(
                    session_id=item.session_id,
                    key=item.key,
                    value=item.value,
                    importance=item.importance,
                    version=item.version,
                    updated_at=item.updated_at,
                )
            )
            emit_item(tx, agent_of[item.session_id], item, "set")
            self.added += 1

    def memories(self, records: list[Record]) -> None:
        if not records:
            return
        tx = self.tx
        ids = [r.obj.id for r in records]  # type: ignore[union-attr]
        stored = self._stored(memory_t, MEMORY_COLUMNS, [memory_t.c.id], ids)
        new = self._split(records, stored, memory_from, lambda r: r.obj.id)
        if not new:
            return
        rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        for record in new:
            memory: Memory = record.obj  # type: ignore[assignment]
            self.repo.agents.ensure_in(tx, memory.agent_id)
            rows.append(memory_row(memory))
            tag_rows.extend({"tag": tag, "memory_id": memory.id} for tag in memory.tags)
            tx.emit(
                ChangeKind.MEMORY_CREATED,
                memory.id,
                agent_id=memory.agent_id,
                session_id=memory.session_id,
                data=memory.to_json(),
            )
        if self.repo.db.is_sqlite:
            # Insertion order is file order, as in add_memories (PostgreSQL's rows take
            # theirs from the memory_seq sequence, in insert order).
            last = tx.conn.execute(select(func.coalesce(func.max(memory_t.c.seq), 0))).scalar()
            for number, row in enumerate(rows, start=int(last or 0) + 1):
                row["seq"] = number
        tx.conn.execute(insert(memory_t), rows)
        if tag_rows:
            tx.conn.execute(insert(tag_t), tag_rows)
        self.added += len(rows)
