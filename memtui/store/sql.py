"""SqlStore: the Backend protocol on any SQLAlchemy URL (SQLite or PostgreSQL).

A thin facade: the work is done by the repositories in memtui.store.repos, one per
entity, in the transactions of memtui.store.engine.Database (engine set-up, dialects,
retries, the change feed). Reads and writes go through SQLAlchemy Core on the SQLModel
tables (memtui.store.rows) and build the domain dataclasses directly.

Where a change goes: a memory filter's SQL in repos/memories.py (`memory_filters`);
a new entity gets its repository in repos/ and its delegating methods here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from memtui.backend.base import BackendBase
from memtui.backend.services import ChangeChannel
from memtui.config import default_db_url
from memtui.domain.clock import Clock, utc_now
from memtui.domain.models import (
    ALL_CAPABILITIES,
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    Agent,
    AgentStats,
    Briefing,
    Change,
    CommitResult,
    ContextRequest,
    ContextResult,
    Memory,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    Session,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.transfer import ImportOutcome, Record
from memtui.store.engine import CHANGE_CHANNEL, Database, parse_url
from memtui.store.repos.agents import AgentRepo
from memtui.store.repos.briefing import BriefingRepo
from memtui.store.repos.changes import ChangeRepo
from memtui.store.repos.context import ContextRepo
from memtui.store.repos.history import HistoryRepo
from memtui.store.repos.memories import MemoryRepo
from memtui.store.repos.search import SearchRepo
from memtui.store.repos.sessions import SessionRepo
from memtui.store.repos.snapshots import SnapshotRepo
from memtui.store.repos.transfer import TransferRepo
from memtui.store.repos.trash import TrashRepo
from memtui.store.repos.working_memory import WorkingMemoryRepo

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from memtui.domain.history import HistoryTarget, Revision, TrashItem
    from memtui.store.api_keys import SqlKeyStore
    from memtui.store.expiry_events import ExpiryWatcher


class SqlStore(BackendBase):
    """The SQLModel store. Thread-safe: share one instance between threads."""

    def __init__(self, url: str | None = None, *, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)
        self.url_text = url or default_db_url()
        self._db = db = Database(parse_url(self.url_text), now=self.now)
        self.dialect_name = db.dialect_name
        self._description = db.description
        self._agents = AgentRepo(db)
        self._sessions = SessionRepo(db, self._agents)
        self._memories = MemoryRepo(db, self._agents)
        self._search = SearchRepo(db, self._memories)
        self._working_memory = WorkingMemoryRepo(db)
        self._briefings = BriefingRepo(db, self._memories)
        self._snapshots = SnapshotRepo(db)
        self._context = ContextRepo(db)
        self._changes = ChangeRepo(db)
        self._transfer = TransferRepo(db, self._agents, self._sessions)
        self._history = HistoryRepo(db)
        self._trash = TrashRepo(db)

    # --- the database ------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """Public so the server side can manage API keys (memtui.store.api_keys)."""
        return self._db.engine

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    @property
    def read_only(self) -> bool:
        """A SQLite file memtui may not write (see memtui.store.sqlite_file)."""
        return self._db.read_only

    def schema_version(self) -> int:
        return self._db.schema_version()

    @property
    def change_origin(self) -> str:
        """A random name for this store object, the payload of its change notifications."""
        return self._db.change_origin

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after every commit of this store object that appended to
        the change feed. It must be quick and must not raise."""
        self._db.add_change_listener(listener)

    def change_channel(self) -> ChangeChannel | None:
        """PostgreSQL: every commit that appended changes NOTIFYs this channel, from any
        process (memtui.backend.HasChangeChannel). SQLite has none."""
        if self.is_sqlite:
            return None
        url = self.engine.url.set(drivername="postgresql")  # libpq's own URL form
        return ChangeChannel(
            url=str(url.render_as_string(hide_password=False)),
            name=CHANGE_CHANNEL,
            own_payload=self.change_origin,
        )

    # --- about -------------------------------------------------------------------------

    def describe(self) -> str:
        return f"{self._description} (read-only)" if self.read_only else self._description

    def capabilities(self) -> frozenset[str]:
        return ALL_CAPABILITIES

    def _release(self) -> None:
        self._db.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._description!r})"

    # --- what `memtui serve` needs beyond the Backend (memtui.backend.services) --------

    def key_store(self) -> SqlKeyStore:
        """The API keys in this store's `api_key` table; closing it leaves us open."""
        from memtui.store.api_keys import SqlKeyStore

        return SqlKeyStore(self.engine, clock=self._clock)

    def expiry_watcher(self) -> ExpiryWatcher:
        """Reports `session.expired` changes while started."""
        from memtui.store.expiry_events import ExpiryWatcher

        return ExpiryWatcher(self._db)

    # --- agents -----------------------------------------------------------------------

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        return self._agents.create_agent(name, description=description, config=config)

    def ensure_agent(self, id_or_name: str) -> Agent:
        return self._agents.ensure_agent(id_or_name)

    def list_agents(self) -> list[Agent]:
        return self._agents.list_agents()

    def get_agent(self, id_or_name: str) -> Agent:
        return self._agents.get_agent(id_or_name)

    def delete_agent(self, agent_id: str) -> None:
        return self._agents.delete_agent(agent_id)

    def agent_stats(self, agent_id: str) -> AgentStats:
        return self._agents.agent_stats(agent_id)

    # --- sessions ---------------------------------------------------------------------

    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session:
        return self._sessions.create_session(
            agent_id, metadata=metadata, workspace_id=workspace_id, ttl=ttl, session_id=session_id
        )

    def import_session(self, session: Session) -> Session:
        return self._sessions.import_session(session)

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        return self._sessions.list_sessions(agent_id=agent_id, status=status, limit=limit)

    def get_session(self, session_id: str) -> Session:
        return self._sessions.get_session(session_id)

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        return self._sessions.update_session(session_id, status=status, metadata=metadata)

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        return self._sessions.extend_session(session_id, by)

    def delete_session(self, session_id: str) -> None:
        return self._sessions.delete_session(session_id)

    # --- memories ---------------------------------------------------------------------

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        return self._memories.add_memories(memories)

    def get_memory(self, memory_id: str) -> Memory:
        return self._memories.get_memory(memory_id)

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        return self._memories.list_memories(query)

    def count_memories(self, query: MemoryQuery) -> int:
        return self._memories.count_memories(query)

    def search_memories(self, query: MemoryQuery) -> MemoryPage:
        return self._search.search_memories(query)

    def search_method(self) -> str:
        return self._search.search_method()

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        return self._memories.list_memory_types(agent_id=agent_id, session_id=session_id)

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        return self._memories.update_memory(memory_id, patch)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        return self._memories.delete_memories(memory_ids)

    # --- working memory ---------------------------------------------------------------

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        return self._working_memory.list_working_memory(session_id)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        return self._working_memory.get_working_memory(session_id, key)

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        return self._working_memory.set_working_memory(
            session_id, key, value, importance=importance, expected_version=expected_version
        )

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        return self._working_memory.rename_working_memory(
            session_id, key, new_key, expected_version=expected_version
        )

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        return self._working_memory.delete_working_memory(
            session_id, key, expected_version=expected_version
        )

    # --- commit and briefing ----------------------------------------------------------

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        return self._briefings.commit_working_memory(
            session_id, min_importance=min_importance, deduplicate=deduplicate
        )

    # --- snapshots --------------------------------------------------------------------

    def create_snapshot(
        self, session_id: str, snapshot: NewSnapshot, *, created_at: datetime | None = None
    ) -> Snapshot:
        return self._snapshots.create_snapshot(session_id, snapshot, created_at=created_at)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        return self._snapshots.list_snapshots(session_id)

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        return self._snapshots.get_snapshot(snapshot_id)

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        return self._snapshots.latest_snapshot(agent_id=agent_id)

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        return self._briefings.briefing(agent_id=agent_id, lookback=lookback)

    # --- context ----------------------------------------------------------------------

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        if request.as_of:
            return self.context_as_of(session_id, request)
        return self._context.build_context(session_id, request)

    # --- history and trash --------------------------------------------------------------

    def history(self, target: HistoryTarget) -> list[Revision]:
        return self._history.history(target)

    def memories_as_of(self, session_id: str, at: datetime) -> list[Memory]:
        return self._history.memories_as_of(session_id, at)

    def compact_history(self, before: datetime) -> tuple[int, int]:
        """Retention: history older than `before` compacted, trash items deleted before
        it purged (see repos/history.py and repos/trash.py); (changes, trash items)."""
        purged = self._trash.expire(before)
        return self._history.compact(before), purged

    def list_trash(self) -> list[TrashItem]:
        return self._trash.list_trash()

    def restore_from_trash(self, item_id: int) -> TrashItem:
        return self._trash.restore(item_id)

    def purge_trash(self, item_ids: Sequence[int] | None = None) -> int:
        return self._trash.purge(item_ids)

    # --- import ------------------------------------------------------------------------

    def import_records(self, records: Sequence[Record]) -> ImportOutcome:
        """Exactly as exported (ids, times, versions), one transaction per call."""
        return self._transfer.import_records(records)

    # --- change feed ------------------------------------------------------------------

    def latest_change_id(self) -> int:
        return self._changes.latest_change_id()

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        return self._changes.changes_since(cursor, limit=limit)

    def memory_ids_exist(self, memory_ids: Iterable[str]) -> set[str]:
        return self._memories.memory_ids_exist(memory_ids)
