"""Memories: add (with deduplication by key), read, filter and page (the timeline's
queries), count, edit, delete. `memory_filters` is the SQL of a MemoryQuery: a new
memory filter adds its clause there (and a check in `check_query`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    update,
)

from memtui.domain import validation as check
from memtui.domain.clock import ensure_utc
from memtui.domain.commit import content_hash
from memtui.domain.errors import ConflictError, InvalidInputError, NotFoundError
from memtui.domain.history import Entity
from memtui.domain.models import (
    MEMTRACE_MEMORY_TYPES,
    ChangeKind,
    Memory,
    MemoryCursor,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    Order,
    new_memory_id,
)
from memtui.store.engine import Database, Tx
from memtui.store.repos.trash import put_in_trash
from memtui.store.rows import (
    MAX_PAGE,
    MAX_VERSION,
    MEMORY_COLUMNS,
    memory_from,
    memory_t,
    resolve_agent_id,
    tag_t,
)
from memtui.store.search_index import indexed_candidates
from memtui.store.tables import UTCDateTime

if TYPE_CHECKING:
    from memtui.store.repos.agents import AgentRepo


def memory_row(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "time": memory.time,
        "agent_id": memory.agent_id,
        "content": memory.content,
        "memory_type": memory.memory_type,
        "event_type": memory.event_type,
        "session_id": memory.session_id,
        "tags": memory.tags,
        "importance": memory.importance,
        "metadata": memory.metadata,
        "parent_id": memory.parent_id,
        "dedup_key": memory.dedup_key,
        "org_id": memory.org_id,
        "content_hash": content_hash(memory.content),
    }


def memory_filters(conn: Connection, query: MemoryQuery) -> list[Any]:
    clauses: list[Any] = []
    if query.agent_id is not None:
        clauses.append(memory_t.c.agent_id == resolve_agent_id(conn, query.agent_id))
    if query.session_id is not None:
        clauses.append(memory_t.c.session_id == query.session_id)
    if query.memory_types:
        clauses.append(memory_t.c.memory_type.in_(list(query.memory_types)))
    if query.exclude_types:
        clauses.append(memory_t.c.memory_type.not_in(list(query.exclude_types)))
    if query.event_types:
        clauses.append(memory_t.c.event_type.in_(list(query.event_types)))
    for tag in dict.fromkeys(query.tags):
        clauses.append(exists().where(tag_t.c.memory_id == memory_t.c.id, tag_t.c.tag == tag))
    candidates = None
    if query.content_contains:
        needle = query.content_contains
        if conn.dialect.name == "sqlite":
            # The trigram index narrows the rows; the LIKE decides (memtui.store.search_index).
            candidates = indexed_candidates(conn, needle)
        clauses.append(memory_t.c.content.icontains(needle, autoescape=True))
    if query.min_importance is not None:
        clauses.append(memory_t.c.importance >= query.min_importance)
    if query.since is not None:
        clauses.append(memory_t.c.time >= literal(ensure_utc(query.since), UTCDateTime()))
    if query.until is not None:
        clauses.append(memory_t.c.time <= literal(ensure_utc(query.until), UTCDateTime()))
    if candidates is not None:
        # Read the few candidates by seq, not the scope's index: likelihood() tells
        # SQLite's planner (which has no statistics) that the other filters keep
        # most rows, so it does not walk a session's or agent's whole timeline.
        clauses = [func.likelihood(clause, literal_column("0.9")) for clause in clauses]
        clauses.append(memory_t.c.seq.in_(candidates))
    return clauses


def check_query(query: MemoryQuery) -> None:
    if query.order not in (Order.ASC, Order.DESC):
        raise InvalidInputError(
            f"order {query.order!r} is not asc or desc", field="order", value=query.order
        )
    if not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInputError(
            f"limit must be from 1 to {MAX_PAGE}, got {query.limit!r}",
            field="limit",
            value=query.limit,
        )
    if not isinstance(query.offset, int) or query.offset < 0:
        raise InvalidInputError(
            f"offset must be 0 or more, got {query.offset!r}",
            field="offset",
            value=query.offset,
        )
    if query.min_importance is not None:
        check.check_importance(query.min_importance)
    # Filters are compared as text: a NUL would be a database error on PostgreSQL
    # (and match nothing on SQLite); refused alike on both, naming the filter.
    for name in ("agent_id", "session_id", "content_contains"):
        value = getattr(query, name)
        if isinstance(value, str):
            check.check_storable(name, value)
    for name in ("memory_types", "exclude_types", "event_types", "tags"):
        for value in getattr(query, name) or ():
            if isinstance(value, str):
                check.check_storable(name, value)
    if query.since and query.until and ensure_utc(query.since) > ensure_utc(query.until):
        raise InvalidInputError(
            f"since ({query.since.isoformat()}) is after until ({query.until.isoformat()})",
            field="since",
            value=query.since,
        )


def all_memory_types(conn: Connection) -> set[str]:
    # A loose index scan: one index probe per distinct type instead of reading the
    # whole (memory_type, time, id) index of millions of rows.
    rows = conn.execute(
        text(
            "WITH RECURSIVE t(mt) AS ("
            " SELECT (SELECT MIN(memory_type) FROM memory)"
            " UNION ALL"
            " SELECT (SELECT MIN(memory_type) FROM memory WHERE memory_type > t.mt)"
            " FROM t WHERE t.mt IS NOT NULL"
            ") SELECT mt FROM t WHERE mt IS NOT NULL"
        )
    )
    return {r[0] for r in rows}


def _cursor_seq(memory_id: str, *, descending: bool) -> Any:
    """The insertion order of a cursor's memory: cursors name (time, id), and pages
    are ordered by (time, seq). If that memory was deleted meanwhile, every memory of
    its time counts as after it: a row is shown twice rather than never."""
    seq = select(memory_t.c.seq).where(memory_t.c.id == literal(memory_id)).scalar_subquery()
    return func.coalesce(seq, literal(MAX_VERSION if descending else -1))


class MemoryRepo:
    def __init__(self, db: Database, agents: AgentRepo) -> None:
        self.db = db
        self.agents = agents

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        """All or nothing. A memory whose `dedup_key` already exists for its agent is not
        stored again: the stored one is returned in its place."""
        memories = list(memories)
        for index, new in enumerate(memories):
            if not isinstance(new, NewMemory):
                raise InvalidInputError(
                    f"memory #{index + 1} is not a NewMemory", field="memories", value=new
                )
            check.check_new_memory(new, index if len(memories) > 1 else None)
        if not memories:
            return []
        return self.db.write(lambda tx: self.add_in(tx, memories))

    def add_in(self, tx: Tx, memories: list[NewMemory]) -> list[Memory]:
        conn = tx.conn
        result: list[Memory | None] = [None] * len(memories)
        existing_by_dedup: dict[tuple[str, str], Memory] = {}
        dedup_wanted = {
            (self.agents.ensure_in(tx, m.agent_id).id, m.dedup_key) for m in memories if m.dedup_key
        }
        for agent_id, dedup_key in dedup_wanted:
            row = conn.execute(
                select(*MEMORY_COLUMNS)
                .where(memory_t.c.agent_id == agent_id, memory_t.c.dedup_key == dedup_key)
                .limit(1)
            ).first()
            if row is not None:
                existing_by_dedup[(agent_id, dedup_key)] = memory_from(row)

        rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        for index, new in enumerate(memories):
            agent = self.agents.ensure_in(tx, new.agent_id)
            if new.dedup_key and (agent.id, new.dedup_key) in existing_by_dedup:
                result[index] = existing_by_dedup[(agent.id, new.dedup_key)]
                continue
            memory = Memory(
                id=new.id or new_memory_id(),
                time=ensure_utc(new.time) if new.time else tx.now,
                agent_id=agent.id,
                content=new.content,
                memory_type=new.memory_type,
                event_type=new.event_type,
                session_id=new.session_id,
                tags=check.check_tags(new.tags),
                importance=None if new.importance is None else float(new.importance),
                metadata=dict(new.metadata or {}),
                parent_id=new.parent_id,
                dedup_key=new.dedup_key,
            )
            if new.dedup_key:
                existing_by_dedup[(agent.id, new.dedup_key)] = memory  # dedup within the batch
            result[index] = memory
            rows.append(memory_row(memory))
            tag_rows.extend({"tag": tag, "memory_id": memory.id} for tag in memory.tags)
            tx.emit(
                ChangeKind.MEMORY_CREATED,
                memory.id,
                agent_id=memory.agent_id,
                session_id=memory.session_id,
                data=memory.to_json(),
            )
        if rows:
            ids = [r["id"] for r in rows]
            if len(set(ids)) != len(ids):
                raise ConflictError("the batch holds the same memory id twice")
            taken = conn.execute(select(memory_t.c.id).where(memory_t.c.id.in_(ids))).first()
            if taken is not None:
                raise ConflictError(f"a memory with id {taken[0]!r} already exists")
            if self.db.is_sqlite:
                # One writer at a time: max + 1 is the next in insertion order
                # (PostgreSQL's rows take theirs from the memory_seq sequence).
                last = conn.execute(select(func.coalesce(func.max(memory_t.c.seq), 0))).scalar()
                for number, row in enumerate(rows, start=int(last or 0) + 1):
                    row["seq"] = number
            conn.execute(insert(memory_t), rows)
            if tag_rows:
                conn.execute(insert(tag_t), tag_rows)
        return [m for m in result if m is not None]

    def get_memory(self, memory_id: str) -> Memory:
        def op(tx: Tx) -> Memory:
            row = tx.conn.execute(select(*MEMORY_COLUMNS).where(memory_t.c.id == memory_id)).first()
            if row is None:
                raise NotFoundError(f"memory {memory_id!r} not found")
            return memory_from(row)

        return self.db.read(op)

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        check_query(query)

        def op(tx: Tx) -> MemoryPage:
            descending = query.order == Order.DESC
            clauses = memory_filters(tx.conn, query)
            if query.after is not None:
                key = tuple_(memory_t.c.time, memory_t.c.seq)
                position = tuple_(
                    literal(ensure_utc(query.after.time), UTCDateTime()),
                    _cursor_seq(query.after.id, descending=descending),
                )
                clauses.append(key < position if descending else key > position)
            order = (
                (memory_t.c.time.desc(), memory_t.c.seq.desc())
                if descending
                else (memory_t.c.time.asc(), memory_t.c.seq.asc())
            )
            stmt = select(*MEMORY_COLUMNS).where(*clauses).order_by(*order)
            stmt = stmt.limit(query.limit + 1)
            if query.offset and query.after is None:
                stmt = stmt.offset(query.offset)
            memories = [memory_from(r) for r in tx.conn.execute(stmt)]
            has_more = len(memories) > query.limit
            memories = memories[: query.limit]
            cursor = (
                MemoryCursor(time=memories[-1].time, id=memories[-1].id)
                if has_more and memories
                else None
            )
            return MemoryPage(memories=memories, has_more=has_more, next_cursor=cursor)

        return self.db.read(op)

    def count_memories(self, query: MemoryQuery) -> int:
        check_query(query)
        return self.db.read(
            lambda tx: int(
                tx.conn.execute(
                    select(func.count())
                    .select_from(memory_t)
                    .where(*memory_filters(tx.conn, query))
                ).scalar_one()
            )
        )

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        def op(tx: Tx) -> list[str]:
            conn = tx.conn
            if agent_id is None and session_id is None:
                stored = all_memory_types(conn)
            else:
                stmt = select(memory_t.c.memory_type).distinct()
                if agent_id is not None:
                    stmt = stmt.where(memory_t.c.agent_id == resolve_agent_id(conn, agent_id))
                if session_id is not None:
                    stmt = stmt.where(memory_t.c.session_id == session_id)
                stored = set(conn.execute(stmt).scalars())
            return sorted(set(MEMTRACE_MEMORY_TYPES) | stored)

        return self.db.read(op)

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        values: dict[str, Any] = {}
        if patch.content is not None:
            values["content"] = check.check_text("content", patch.content)
            values["content_hash"] = content_hash(patch.content)
        if patch.memory_type is not None:
            values["memory_type"] = check.check_type_name("memory_type", patch.memory_type)
        if patch.event_type is not None:
            values["event_type"] = check.check_type_name("event_type", patch.event_type)
        if patch.tags is not None:
            values["tags"] = check.check_tags(patch.tags)
        if patch.importance is not None:
            values["importance"] = check.check_importance(patch.importance)
        if patch.metadata is not None:
            values["metadata"] = check.check_object("metadata", patch.metadata)

        def op(tx: Tx) -> Memory:
            conn = tx.conn
            found = conn.execute(select(memory_t.c.id).where(memory_t.c.id == memory_id)).first()
            if found is None:
                raise NotFoundError(f"memory {memory_id!r} not found")
            if values:
                conn.execute(update(memory_t).where(memory_t.c.id == memory_id).values(**values))
            if "tags" in values:
                conn.execute(delete(tag_t).where(tag_t.c.memory_id == memory_id))
                if values["tags"]:
                    conn.execute(
                        insert(tag_t), [{"tag": t, "memory_id": memory_id} for t in values["tags"]]
                    )
            memory = memory_from(
                conn.execute(select(*MEMORY_COLUMNS).where(memory_t.c.id == memory_id)).one()
            )
            if values:
                tx.emit(
                    ChangeKind.MEMORY_UPDATED,
                    memory.id,
                    agent_id=memory.agent_id,
                    session_id=memory.session_id,
                    data=memory.to_json(),
                )
            return memory

        return self.db.write(op)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return 0

        def op(tx: Tx) -> int:
            conn = tx.conn
            deleted = 0
            for start in range(0, len(ids), 500):  # stay under bind-parameter limits
                chunk = ids[start : start + 500]
                # Read whole: the delete records the memory as it was (history) and
                # keeps it in the trash, restorable as it was.
                found = [
                    memory_from(r)
                    for r in conn.execute(select(*MEMORY_COLUMNS).where(memory_t.c.id.in_(chunk)))
                ]
                if not found:
                    continue
                present = [m.id for m in found]
                conn.execute(delete(tag_t).where(tag_t.c.memory_id.in_(present)))
                conn.execute(delete(memory_t).where(memory_t.c.id.in_(present)))
                for memory in found:
                    data = memory.to_json()
                    tx.emit(
                        ChangeKind.MEMORY_DELETED,
                        memory.id,
                        agent_id=memory.agent_id,
                        session_id=memory.session_id,
                        data=data,
                    )
                    put_in_trash(
                        tx,
                        Entity.MEMORY.value,
                        memory.id,
                        data,
                        session_id=memory.session_id,
                        agent_id=memory.agent_id,
                    )
                deleted += len(found)
            return deleted

        return self.db.write(op)

    def memory_ids_exist(self, memory_ids: Iterable[str]) -> set[str]:
        """Which of these memory ids are stored (the demo uses it to stay idempotent)."""
        ids = list(memory_ids)

        def op(tx: Tx) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), 500):
                found.update(
                    tx.conn.execute(
                        select(memory_t.c.id).where(memory_t.c.id.in_(ids[start : start + 500]))
                    ).scalars()
                )
            return found

        return self.db.read(op)
