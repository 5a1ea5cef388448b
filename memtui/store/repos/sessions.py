"""Sessions: create (or import as given), list by agent and status, update, extend,
delete with their working memory and snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, literal, or_, select, update

from memtui.domain import validation as check
from memtui.domain.clock import ensure_utc
from memtui.domain.errors import ConflictError, InvalidInputError, NotFoundError
from memtui.domain.expiry import extended_expiry
from memtui.domain.history import Entity
from memtui.domain.models import (
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    ChangeKind,
    Session,
    SessionStatus,
    new_session_id,
)
from memtui.store.engine import Database, Tx
from memtui.store.repos.trash import put_in_trash
from memtui.store.rows import (
    SESSION_COLUMNS,
    SNAPSHOT_COLUMNS,
    WM_COLUMNS,
    resolve_agent_id,
    session_from,
    session_t,
    snapshot_from,
    snapshot_t,
    wm_item_from,
    wm_t,
)
from memtui.store.tables import UTCDateTime

if TYPE_CHECKING:
    from memtui.store.repos.agents import AgentRepo


def status_clause(status: str, now: datetime) -> Any:
    """The sessions of a status at `now` (expired is an active session past its time)."""
    at = literal(now, UTCDateTime())
    if status == SessionStatus.ACTIVE:
        return and_(
            session_t.c.status == "active",
            or_(session_t.c.expires_at.is_(None), session_t.c.expires_at > at),
        )
    if status == SessionStatus.EXPIRED:
        return and_(session_t.c.status == "active", session_t.c.expires_at <= at)
    if status == SessionStatus.CLOSED:
        return session_t.c.status == "closed"
    raise InvalidInputError(
        f"session status {status!r} is not one of active, closed, expired",
        field="status",
        value=status,
    )


def get_session(conn: Connection, session_id: str) -> Session:
    row = conn.execute(select(*SESSION_COLUMNS).where(session_t.c.id == session_id)).first()
    if row is None:
        raise NotFoundError(f"session {session_id!r} not found")
    return session_from(row)


def update_session_row(tx: Tx, session: Session, **values: Any) -> Session:
    values["updated_at"] = tx.now
    tx.conn.execute(update(session_t).where(session_t.c.id == session.id).values(**values))
    updated = get_session(tx.conn, session.id)
    tx.emit(
        ChangeKind.SESSION_UPDATED,
        session.id,
        agent_id=session.agent_id,
        session_id=session.id,
        data=updated.to_json(tx.now),
    )
    return updated


def delete_session_rows(tx: Tx, session_id: str, agent_id: str) -> None:
    conn = tx.conn
    # The session goes to the trash with its working memory and snapshots, so that a
    # restore brings all of it back (keys with their versions).
    session = conn.execute(select(*SESSION_COLUMNS).where(session_t.c.id == session_id)).first()
    items = [
        wm_item_from(r).to_json()
        for r in conn.execute(
            select(*WM_COLUMNS).where(wm_t.c.session_id == session_id).order_by(wm_t.c.key)
        )
    ]
    snapshots = [
        snapshot_from(r).to_json()
        for r in conn.execute(
            select(*SNAPSHOT_COLUMNS)
            .where(snapshot_t.c.session_id == session_id)
            .order_by(snapshot_t.c.created_at, snapshot_t.c.id)
        )
    ]
    conn.execute(delete(wm_t).where(wm_t.c.session_id == session_id))
    conn.execute(delete(snapshot_t).where(snapshot_t.c.session_id == session_id))
    conn.execute(delete(session_t).where(session_t.c.id == session_id))
    data: dict[str, Any] = {"session_id": session_id, "id": session_id}
    if session is not None:
        data = {**session_from(session).to_json(tx.now), "session_id": session_id}
    tx.emit(
        ChangeKind.SESSION_DELETED,
        session_id,
        agent_id=agent_id,
        session_id=session_id,
        data=data,
    )
    put_in_trash(
        tx,
        Entity.SESSION.value,
        session_id,
        {**data, "working_memory": items, "snapshots": snapshots},
        session_id=session_id,
        agent_id=agent_id,
    )


class SessionRepo:
    def __init__(self, db: Database, agents: AgentRepo) -> None:
        self.db = db
        self.agents = agents

    def _insert(self, tx: Tx, session: Session) -> Session:
        inserted = tx.conn.execute(
            self.db.insert_ignore(session_t).values(
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
        ).first()
        if not inserted:
            raise ConflictError(f"session {session.id!r} already exists")
        tx.emit(
            ChangeKind.SESSION_CREATED,
            session.id,
            agent_id=session.agent_id,
            session_id=session.id,
            data=session.to_json(tx.now),
        )
        return session

    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session:
        metadata = check.check_object("metadata", metadata)
        if ttl is not None:
            check.check_positive_duration("ttl", ttl)
            if ttl > timedelta(days=365 * 100):
                raise InvalidInputError(
                    f"ttl must be at most 100 years, got {ttl}", field="ttl", value=str(ttl)
                )
        if session_id is not None:
            check.check_id("session_id", session_id)
        if workspace_id is not None:
            check.check_text("workspace_id", workspace_id, max_length=check.MAX_ID_LENGTH)

        def op(tx: Tx) -> Session:
            agent = self.agents.ensure_in(tx, agent_id)
            session = Session(
                id=session_id or new_session_id(),
                agent_id=agent.id,
                status=SessionStatus.ACTIVE.value,
                created_at=tx.now,
                updated_at=tx.now,
                expires_at=None if ttl is None else tx.now + ttl,
                workspace_id=workspace_id,
                metadata=metadata,
            )
            return self._insert(tx, session)

        return self.db.write(op)

    def import_session(self, session: Session) -> Session:
        """Store a session exactly as given (timestamps included), for imports and the
        demo. ConflictError if its id exists. Not part of the Backend protocol."""
        check.check_text("session_id", session.id, max_length=check.MAX_ID_LENGTH)
        if session.status not in (SessionStatus.ACTIVE, SessionStatus.CLOSED):
            raise InvalidInputError(
                f"session status {session.status!r} is not active or closed",
                field="status",
                value=session.status,
            )

        def op(tx: Tx) -> Session:
            agent = self.agents.ensure_in(tx, session.agent_id)
            return self._insert(
                tx,
                Session(
                    id=session.id,
                    agent_id=agent.id,
                    status=session.status,
                    created_at=ensure_utc(session.created_at),
                    updated_at=ensure_utc(session.updated_at),
                    expires_at=session.expires_at and ensure_utc(session.expires_at),
                    closed_at=session.closed_at and ensure_utc(session.closed_at),
                    workspace_id=session.workspace_id,
                    metadata=check.check_object("metadata", session.metadata),
                    org_id=session.org_id,
                ),
            )

        return self.db.write(op)

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidInputError(
                f"limit must be a positive integer, got {limit!r}", field="limit"
            )

        def op(tx: Tx) -> list[Session]:
            stmt = select(*SESSION_COLUMNS)
            if agent_id is not None:
                stmt = stmt.where(session_t.c.agent_id == resolve_agent_id(tx.conn, agent_id))
            if status is not None:
                stmt = stmt.where(status_clause(status, tx.now))
            stmt = stmt.order_by(session_t.c.created_at.desc(), session_t.c.id.desc())
            if limit is not None:
                stmt = stmt.limit(limit)
            return [session_from(r) for r in tx.conn.execute(stmt)]

        return self.db.read(op)

    def get_session(self, session_id: str) -> Session:
        return self.db.read(lambda tx: get_session(tx.conn, session_id))

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        if status is not None and status not in (SessionStatus.ACTIVE, SessionStatus.CLOSED):
            raise InvalidInputError(
                f"session status {status!r} cannot be set: use active or closed",
                field="status",
                value=status,
            )
        if metadata is not None:
            metadata = check.check_object("metadata", metadata)

        def op(tx: Tx) -> Session:
            session = get_session(tx.conn, session_id)
            values: dict[str, Any] = {}
            if metadata is not None:
                values["metadata"] = metadata
            if status == SessionStatus.CLOSED and session.status != SessionStatus.CLOSED:
                values.update(status="closed", closed_at=tx.now)
            elif status == SessionStatus.ACTIVE and session.status != SessionStatus.ACTIVE:
                values.update(status="active", closed_at=None)
            if not values:
                return session
            return update_session_row(tx, session, **values)

        return self.db.write(op)

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        check.check_positive_duration("by", by)

        def op(tx: Tx) -> Session:
            session = get_session(tx.conn, session_id)
            if session.status == SessionStatus.CLOSED:
                raise ConflictError(f"session {session_id!r} is closed; reopen it to extend it")
            return update_session_row(
                tx, session, expires_at=extended_expiry(session.expires_at, by, tx.now)
            )

        return self.db.write(op)

    def delete_session(self, session_id: str) -> None:
        def op(tx: Tx) -> None:
            session = get_session(tx.conn, session_id)
            delete_session_rows(tx, session_id, session.agent_id)

        self.db.write(op)
