"""Agents: registration (explicit, or on first use by a session or memory), lookup by
id or name, deletion with their sessions, and per-agent statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, literal, select

from memtui.domain import validation as check
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.models import DEFAULT_ORG, Agent, AgentStats, ChangeKind, new_agent_id
from memtui.store.engine import Database, Retry, Tx
from memtui.store.repos.sessions import delete_session_rows, status_clause
from memtui.store.rows import (
    AGENT_COLUMNS,
    agent_from,
    agent_t,
    find_agent,
    memory_t,
    parse_sql_time,
    session_t,
)
from memtui.store.tables import UTCDateTime


class AgentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def ensure_in(self, tx: Tx, id_or_name: str) -> Agent:
        """The agent, registered in this transaction if it is new."""
        cached = tx.agents.get(id_or_name)
        if cached is not None:
            return cached
        check.check_text("agent_id", id_or_name, max_length=check.MAX_ID_LENGTH)
        agent = find_agent(tx.conn, id_or_name)
        if agent is None:
            agent = Agent(id=id_or_name, name=id_or_name, created_at=tx.now)
            inserted = tx.conn.execute(
                self.db.insert_ignore(agent_t).values(
                    id=agent.id,
                    name=agent.name,
                    description="",
                    config={},
                    org_id=DEFAULT_ORG,
                    created_at=agent.created_at,
                )
            ).first()
            if not inserted:
                raise Retry  # another writer registered it a moment ago
            tx.emit(ChangeKind.AGENT_CREATED, agent.id, agent_id=agent.id, data=agent.to_json())
        tx.agents[id_or_name] = agent
        return agent

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        check.check_text("name", name, max_length=check.MAX_ID_LENGTH)
        description = check.check_optional_text("description", description) or ""
        config = check.check_object("config", config)

        def op(tx: Tx) -> Agent:
            if find_agent(tx.conn, name) is not None:
                raise ConflictError(f"an agent named {name!r} already exists")
            agent = Agent(
                id=new_agent_id(),
                name=name,
                created_at=tx.now,
                description=description,
                config=config,
            )
            inserted = tx.conn.execute(
                self.db.insert_ignore(agent_t).values(
                    id=agent.id,
                    name=name,
                    description=description,
                    config=config,
                    org_id=DEFAULT_ORG,
                    created_at=tx.now,
                )
            ).first()
            if not inserted:
                raise ConflictError(f"an agent named {name!r} already exists")
            tx.emit(ChangeKind.AGENT_CREATED, agent.id, agent_id=agent.id, data=agent.to_json())
            return agent

        return self.db.write(op)

    def ensure_agent(self, id_or_name: str) -> Agent:
        return self.db.write(lambda tx: self.ensure_in(tx, id_or_name))

    def list_agents(self) -> list[Agent]:
        return self.db.read(
            lambda tx: [
                agent_from(r)
                for r in tx.conn.execute(select(*AGENT_COLUMNS).order_by(agent_t.c.name))
            ]
        )

    def get_agent(self, id_or_name: str) -> Agent:
        agent = self.db.read(lambda tx: find_agent(tx.conn, id_or_name))
        if agent is None:
            raise NotFoundError(f"agent {id_or_name!r} not found")
        return agent

    def delete_agent(self, agent_id: str) -> None:
        """Removes the agent's registration and its sessions (with their working memory
        and snapshots). Its memories stay: memories outlive sessions and agents."""

        def op(tx: Tx) -> None:
            agent = find_agent(tx.conn, agent_id)
            if agent is None:
                raise NotFoundError(f"agent {agent_id!r} not found")
            session_ids = list(
                tx.conn.execute(
                    select(session_t.c.id).where(session_t.c.agent_id == agent.id)
                ).scalars()
            )
            for session_id in session_ids:
                delete_session_rows(tx, session_id, agent.id)
            tx.conn.execute(delete(agent_t).where(agent_t.c.id == agent.id))
            tx.emit(ChangeKind.AGENT_DELETED, agent.id, agent_id=agent.id, data=agent.to_json())

        self.db.write(op)

    def agent_stats(self, agent_id: str) -> AgentStats:
        def op(tx: Tx) -> AgentStats:
            agent = find_agent(tx.conn, agent_id)
            if agent is None:
                raise NotFoundError(f"agent {agent_id!r} not found")
            conn, now = tx.conn, tx.now
            day_ago = literal(now - timedelta(hours=24), UTCDateTime())
            of_agent = memory_t.c.agent_id == agent.id
            memory_count, last_active = conn.execute(
                select(func.count(), func.max(memory_t.c.time)).where(of_agent)
            ).one()
            memories_24h = conn.execute(
                select(func.count()).where(of_agent, memory_t.c.time >= day_ago)
            ).scalar_one()
            errors_24h = conn.execute(
                select(func.count()).where(
                    of_agent, memory_t.c.time >= day_ago, memory_t.c.event_type == "error"
                )
            ).scalar_one()
            types = dict(
                conn.execute(
                    select(memory_t.c.memory_type, func.count())
                    .where(of_agent)
                    .group_by(memory_t.c.memory_type)
                ).all()
            )
            session_count = conn.execute(
                select(func.count()).where(session_t.c.agent_id == agent.id)
            ).scalar_one()
            active = conn.execute(
                select(func.count()).where(
                    session_t.c.agent_id == agent.id, status_clause("active", now)
                )
            ).scalar_one()
            return AgentStats(
                agent_id=agent.id,
                memory_count=int(memory_count),
                memories_24h=int(memories_24h),
                errors_24h=int(errors_24h),
                session_count=int(session_count),
                active_sessions=int(active),
                last_active_at=parse_sql_time(last_active),
                memory_types={str(k): int(v) for k, v in types.items()},
            )

        return self.db.read(op)
