"""The Backend protocol: every method a backend answers.

Write a new backend by subclassing `memtui.backend.BackendBase`, which implements the
shared methods and refuses the optional ones. Two implementations: the SQLModel store
(`memtui.store.SqlStore`, SQLite or PostgreSQL) and the HTTP client
(`memtui.remote.HttpBackend`). Methods are synchronous and thread-safe; the TUI calls
them from thread workers, the server from its threadpool.

Every method raises only `memtui.domain.errors.MemtuiError` subclasses, with messages
fit to show a user: NotFoundError, InvalidInputError (names the field and value),
ConflictError / VersionConflictError, UnsupportedError (capability missing),
BackendUnavailableError (unreachable, locked, disk full), AuthError.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from memtui.domain.models import (
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
    ServerContext,
    Session,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.transfer import ImportOutcome, Record

if TYPE_CHECKING:
    from memtui.domain.context.explain import ContextExplanation
    from memtui.domain.history import HistoryTarget, Revision, TrashItem


class _Default:
    """Sentinel: 'use the backend default' where None already means something."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


@runtime_checkable
class Backend(Protocol):
    # --- about the backend ---------------------------------------------------------------

    def describe(self) -> str:
        """Where this backend points, safe to show: secrets masked."""
        ...

    def capabilities(self) -> frozenset[str]:
        """Values of `memtui.domain.models.Capability` this backend supports."""
        ...

    def now(self) -> datetime:
        """The backend's clock (injected in tests); aware UTC."""
        ...

    def unsupported_reason(self, capability: str) -> str:
        """Why this backend lacks `capability`, in words for a user (front ends show it
        instead of offering the action)."""
        ...

    def close(self) -> None: ...

    # --- agents --------------------------------------------------------------------------

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        """ConflictError if an agent with this name exists."""
        ...

    def ensure_agent(self, id_or_name: str) -> Agent:
        """Get the agent, registering it (name = id) if it does not exist."""
        ...

    def list_agents(self) -> list[Agent]: ...

    def get_agent(self, id_or_name: str) -> Agent: ...

    def delete_agent(self, agent_id: str) -> None: ...

    def agent_stats(self, agent_id: str) -> AgentStats: ...

    # --- sessions ------------------------------------------------------------------------

    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session:
        """`ttl=None` makes a session that never expires. Registers unknown agents.
        `session_id` is normally generated; a client may bring its own (seed 003 does),
        ConflictError if it exists."""
        ...

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        """Newest first. `status` may be active, closed or expired (computed from now)."""
        ...

    def get_session(self, session_id: str) -> Session: ...

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        """Setting status `closed` sets closed_at; `active` reopens it."""
        ...

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        """Adds `by` to the current expiry (1 h left + 6 h = 7 h left). An already
        expired session is extended from now."""
        ...

    def close_session(self, session_id: str) -> Session: ...

    def delete_session(self, session_id: str) -> None:
        """Removes the session, its working memory and snapshots; memories stay."""
        ...

    # --- memories ------------------------------------------------------------------------

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        """All or nothing. Registers unknown agents."""
        ...

    def get_memory(self, memory_id: str) -> Memory: ...

    def list_memories(self, query: MemoryQuery) -> MemoryPage: ...

    def count_memories(self, query: MemoryQuery) -> int:
        """How many memories match `query` (ignoring its paging fields)."""
        ...

    def search_memories(self, query: MemoryQuery) -> MemoryPage:
        """The memories `list_memories(query)` finds, best match to
        `query.content_contains` first where the backend can rank (no cursor: the
        first `query.limit`, `has_more` if there are more). `search_method()` says how
        they are ordered."""
        ...

    def search_method(self) -> str:
        """How `search_memories` orders its results, in a few words for a reader."""
        ...

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        """Memtrace's four types plus every other type stored (for this agent/session),
        sorted. Filters and the context engine validate type names against it."""
        ...

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory: ...

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        """Deletes exactly these; returns how many existed."""
        ...

    # --- working memory ------------------------------------------------------------------

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        """Sorted by key."""
        ...

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem: ...

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        """Creates (version 1) or updates (version + 1). With `expected_version`, a
        stale version raises VersionConflictError carrying the current item; 0 means
        'must not exist yet'."""
        ...

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        """ConflictError if `new_key` exists."""
        ...

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None: ...

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        """Turns working-memory items with importance >= min_importance into long-term
        memories (memory_type `session`, event_type `commit`, tagged with the key).
        With `deduplicate`, an item whose content already exists as a memory of this
        agent is skipped and counted."""
        ...

    # --- snapshots -----------------------------------------------------------------------

    def create_snapshot(self, session_id: str, snapshot: NewSnapshot) -> Snapshot: ...

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        """Newest first."""
        ...

    def get_snapshot(self, snapshot_id: str) -> Snapshot: ...

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        """NotFoundError if there is none."""
        ...

    # --- briefing and context ------------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing: ...

    def server_context(
        self, session_id: str, *, budget_tokens: int = 2048, encoding: str = "cl100k_base"
    ) -> ServerContext:
        """The server's own context builder's output for the session (capability
        `server_context`: MemoryLayer's context-pack), with `exact_tokens` counted by
        memtui (tiktoken `encoding`) beside the server's own estimate."""
        ...

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        """The LLM-ready markdown (memtui.domain.context). NotFoundError for an unknown
        session, InvalidInputError naming a bad since/until/type/encoding."""
        ...

    def explain_context(self, session_id: str, request: ContextRequest) -> ContextExplanation:
        """Why each memory of the session is in the context `request` builds or not, the
        tokens per section, and what a larger budget would take in
        (memtui.domain.context.explain). Capability CONTEXT_EXPLAIN."""
        ...

    # --- history -----------------------------------------------------------------------

    def history(self, target: HistoryTarget) -> list[Revision]:
        """The revisions of a memory, a session, a working-memory key or a snapshot,
        oldest first: time, actor, action, the object before and after
        (memtui.domain.history). An object with no history is an empty list, not an
        error (it may be older than the retention). Capability HISTORY."""
        ...

    # --- trash -------------------------------------------------------------------------

    def list_trash(self) -> list[TrashItem]:
        """Deleted memories, sessions and working-memory keys, newest first, until they
        are restored, purged, or older than the retention. Capability TRASH."""
        ...

    def restore_from_trash(self, item_id: int) -> TrashItem:
        """Puts a trash item back as it was (same id, content, tags, links; a key with
        its version; a session with its working memory and snapshots). NotFoundError
        for an unknown item, ConflictError if the id (or key) is taken meanwhile."""
        ...

    def purge_trash(self, item_ids: Sequence[int] | None = None) -> int:
        """Deletes trash items for good, with their history (None: the whole trash);
        returns how many went."""

    # --- import --------------------------------------------------------------------------

    def import_records(self, records: Sequence[Record]) -> ImportOutcome:
        """Stores objects exactly as exported (memtui.domain.transfer): ids, times,
        versions kept. All or nothing. An object already stored with the same values is
        counted unchanged; one stored with other values is kept as stored and returned
        as a conflict. Agents a record names but the batch and store lack are
        registered; a snapshot or working-memory item whose session exists in neither is
        an InvalidInputError naming its line."""
        ...

    # --- change feed ---------------------------------------------------------------------

    def latest_change_id(self) -> int:
        """The id of the newest change (0 if none): a cursor to start following from."""
        ...

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        """Changes with id > cursor, oldest first. A reader that keeps the last id it
        saw never misses one."""
        ...
