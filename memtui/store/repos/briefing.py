"""The two operations that run the domain's shared rules (memtui.domain.briefing and
memtui.domain.commit) inside one transaction: the briefing, and committing working
memory to memories with deduplication."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, literal, select

from memtui.domain import validation as check
from memtui.domain.briefing import RECENT_ACTIVITY_LIMIT, assemble_briefing
from memtui.domain.commit import plan_commit
from memtui.domain.models import Briefing, CommitResult
from memtui.store.engine import Database, Tx
from memtui.store.repos.memories import MemoryRepo
from memtui.store.repos.sessions import get_session, status_clause
from memtui.store.rows import (
    MEMORY_COLUMNS,
    SESSION_COLUMNS,
    SNAPSHOT_COLUMNS,
    WM_COLUMNS,
    memory_from,
    memory_t,
    resolve_agent_id,
    session_from,
    session_t,
    snapshot_from,
    snapshot_t,
    wm_item_from,
    wm_t,
)
from memtui.store.tables import UTCDateTime


class BriefingRepo:
    def __init__(self, db: Database, memories: MemoryRepo) -> None:
        self.db = db
        self.memories = memories

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        check.check_positive_duration("lookback", lookback)

        def op(tx: Tx) -> Briefing:
            conn, now = tx.conn, tx.now
            resolved = resolve_agent_id(conn, agent_id) if agent_id else None
            recent_stmt = select(*MEMORY_COLUMNS).where(
                memory_t.c.time >= literal(now - lookback, UTCDateTime())
            )
            session_stmt = select(*SESSION_COLUMNS).where(status_clause("active", now))
            # Latest snapshot of each session (a window function: SQLite >= 3.25 and PG).
            ranked = select(
                *SNAPSHOT_COLUMNS,
                func.row_number()
                .over(
                    partition_by=snapshot_t.c.session_id,
                    order_by=(snapshot_t.c.created_at.desc(), snapshot_t.c.id.desc()),
                )
                .label("rank"),
            )
            if resolved:
                recent_stmt = recent_stmt.where(memory_t.c.agent_id == resolved)
                session_stmt = session_stmt.where(session_t.c.agent_id == resolved)
                ranked = ranked.where(snapshot_t.c.agent_id == resolved)
            recent = [
                memory_from(r)
                for r in conn.execute(
                    recent_stmt.order_by(memory_t.c.time.desc(), memory_t.c.seq.desc()).limit(
                        RECENT_ACTIVITY_LIMIT
                    )
                )
            ]
            active = [
                session_from(r)
                for r in conn.execute(
                    session_stmt.order_by(session_t.c.created_at.desc(), session_t.c.id.desc())
                )
            ]
            latest = ranked.subquery()
            latest_snapshots = (
                snapshot_from(row)
                for row in conn.execute(
                    select(*[latest.c[c.name] for c in SNAPSHOT_COLUMNS])
                    .where(latest.c.rank == 1)
                    .order_by(latest.c.created_at.desc(), latest.c.id.desc())
                )
            )
            return assemble_briefing(
                now=now,
                lookback=lookback,
                recent_activity=recent,
                active_sessions=active,
                latest_snapshots=latest_snapshots,
                agent_id=resolved,
            )

        return self.db.read(op)

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        check.check_importance(min_importance, required=True)

        def op(tx: Tx) -> CommitResult:
            conn = tx.conn
            session = get_session(conn, session_id)
            items = [
                wm_item_from(r)
                for r in conn.execute(
                    select(*WM_COLUMNS).where(wm_t.c.session_id == session_id).order_by(wm_t.c.key)
                )
            ]

            def content_exists(_content: str, digest: str) -> bool:
                return (
                    conn.execute(
                        select(memory_t.c.id)
                        .where(
                            memory_t.c.agent_id == session.agent_id,
                            memory_t.c.content_hash == digest,
                        )
                        .limit(1)
                    ).first()
                    is not None
                )

            plan = plan_commit(
                session,
                items,
                min_importance=min_importance,
                deduplicate=deduplicate,
                content_exists=content_exists,
            )
            created = self.memories.add_in(tx, plan.to_create) if plan.to_create else []
            return plan.result(created)

        return self.db.write(op)
