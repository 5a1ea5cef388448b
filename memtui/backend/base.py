"""`BackendBase`: what every backend shares, so an adapter writes only what its system
does.

An adapter subclasses it and implements the core methods (marked abstract: agents,
sessions, memories, context). It gets for free:
- `ensure_agent` (get, else create, else get again after a race), `close_session`,
  `close` (once; releases through `_release`), `now` from the injected clock, and use
  as a context manager;
- `commit_working_memory` with deduplication and `briefing`, built on the core methods
  (and on working memory / snapshots), offered when the adapter lists `COMMIT` /
  `BRIEFING` in `capabilities()`;
- every optional capability (expiry, working memory, snapshots, memory editing,
  session deletion, the change feed) raising UnsupportedError naming the capability,
  until the adapter overrides it.

An adapter with a faster or atomic way (the SQL store runs commit and briefing in one
transaction) overrides the method and keeps the shared pieces from `memtui.domain`
(`commit.plan_commit`, `briefing.assemble_briefing`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from memtui.domain import validation as check
from memtui.domain.briefing import RECENT_ACTIVITY_LIMIT, assemble_briefing
from memtui.domain.clock import Clock, ensure_utc, utc_now
from memtui.domain.commit import plan_commit
from memtui.domain.errors import MemtuiError, NotFoundError, UnsupportedError
from memtui.domain.models import (
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    MEMTRACE_MEMORY_TYPES,
    Agent,
    AgentStats,
    Briefing,
    Capability,
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
    SessionStatus,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.transfer import ImportOutcome, Record

if TYPE_CHECKING:
    from memtui.domain.context.explain import ContextExplanation
    from memtui.domain.history import HistoryTarget, Revision, TrashItem

# How a missing capability is named in a message ("... does not offer <text>").
CAPABILITY_TEXT: dict[str, str] = {
    Capability.EXPIRY: "session expiry or extend",
    Capability.WORKING_MEMORY: "working memory",
    Capability.COMMIT: "commit to long-term memory",
    Capability.SNAPSHOTS: "snapshots",
    Capability.BRIEFING: "briefings",
    Capability.MEMORY_IDS: "memory ids",
    Capability.MEMORY_EDIT: "memory editing or deleting",
    Capability.SESSION_DELETE: "session deletion",
    Capability.EVENTS: "a live event stream",
    Capability.SERVER_CONTEXT: "a context builder of its own",
    Capability.SESSION_CLOSE: "closing or reopening sessions",
    Capability.WORKING_MEMORY_DELETE: "deleting one working-memory key",
    Capability.WORKING_MEMORY_RENAME: "renaming working-memory keys",
    Capability.WORKING_MEMORY_IMPORTANCE: "an importance for working-memory keys",
    Capability.CUSTOM_MEMORY_TYPES: "memory types of your own",
    Capability.MEMORY_TIME: "memories at a time of your choosing",
    Capability.SESSION_MEMORIES: "memories that belong to a session",
    Capability.CONTEXT_BUDGET: "an exact context token budget",
    Capability.CONTEXT_EXPLAIN: "context explanations",
    Capability.HISTORY: "history",
    Capability.TRASH: "a trash (restoring deleted things)",
    Capability.IMPORT: "import",
}

_SCAN_PAGE = 1000  # rows per list_memories call when a built-in operation scans


class BackendBase(ABC):
    """The shared part of every Backend (see `memtui.backend.protocol.Backend`)."""

    _closed: bool = False

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._closed = False

    # --- about the backend ---------------------------------------------------------------

    @abstractmethod
    def describe(self) -> str:
        """Where this backend points, safe to show: secrets masked."""

    def capabilities(self) -> frozenset[str]:
        """Values of `Capability` this backend offers; none unless an adapter says so."""
        return frozenset()

    def now(self) -> datetime:
        return ensure_utc(self._clock())

    def close(self) -> None:
        """Releases the backend's resources once; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def _release(self) -> None:  # noqa: B027 - optional hook: most adapters hold nothing
        """What `close` frees (connections, threads). Called once."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def unsupported_reason(self, capability: str) -> str:
        """Why this backend lacks `capability`, in words for a user."""
        return self._unsupported_message(capability)

    def _unsupported_message(self, capability: str) -> str:
        return f"{self.describe()} does not offer {CAPABILITY_TEXT.get(capability, capability)}"

    def _unsupported(self, capability: str) -> UnsupportedError:
        return UnsupportedError(self._unsupported_message(capability), capability=capability)

    def _require(self, capability: str) -> None:
        """UnsupportedError unless `capability` is one this backend offers."""
        if capability not in self.capabilities():
            raise self._unsupported(capability)

    # --- agents (core) -------------------------------------------------------------------

    @abstractmethod
    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent: ...

    @abstractmethod
    def list_agents(self) -> list[Agent]: ...

    @abstractmethod
    def get_agent(self, id_or_name: str) -> Agent: ...

    @abstractmethod
    def delete_agent(self, agent_id: str) -> None: ...

    @abstractmethod
    def agent_stats(self, agent_id: str) -> AgentStats: ...

    def ensure_agent(self, id_or_name: str) -> Agent:
        """Get the agent, else register it (name = id_or_name); another writer that
        registers it at the same moment wins and its agent is returned."""
        try:
            return self.get_agent(id_or_name)
        except NotFoundError:
            pass
        try:
            return self.create_agent(id_or_name)
        except MemtuiError as exc:
            if exc.http_status != 409:
                raise
            return self.get_agent(id_or_name)  # somebody else registered it meanwhile

    # --- sessions (core) -----------------------------------------------------------------

    @abstractmethod
    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session: ...

    @abstractmethod
    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]: ...

    @abstractmethod
    def get_session(self, session_id: str) -> Session: ...

    @abstractmethod
    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session: ...

    def close_session(self, session_id: str) -> Session:
        """update_session refuses it where sessions cannot close (no SESSION_CLOSE)."""
        return self.update_session(session_id, status=SessionStatus.CLOSED.value)

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        raise self._unsupported(Capability.EXPIRY)

    def delete_session(self, session_id: str) -> None:
        raise self._unsupported(Capability.SESSION_DELETE)

    # --- memories (core) -----------------------------------------------------------------

    @abstractmethod
    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]: ...

    @abstractmethod
    def get_memory(self, memory_id: str) -> Memory: ...

    @abstractmethod
    def list_memories(self, query: MemoryQuery) -> MemoryPage: ...

    @abstractmethod
    def count_memories(self, query: MemoryQuery) -> int: ...

    def search_memories(self, query: MemoryQuery) -> MemoryPage:
        """Unranked: list_memories' order (newest first). A backend with a text index
        overrides it and `search_method`."""
        return self.list_memories(replace(query, after=None, offset=0))

    def search_method(self) -> str:
        return "substring match on content, newest first"

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        """Memtrace's four types; a backend that stores others lists them too."""
        return sorted(MEMTRACE_MEMORY_TYPES)

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        raise self._unsupported(Capability.MEMORY_EDIT)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        raise self._unsupported(Capability.MEMORY_EDIT)

    def _scan_memories(self, query: MemoryQuery) -> Iterator[Memory]:
        """Every memory matching `query`, page by page (keyset cursor)."""
        page_query = replace(query, limit=_SCAN_PAGE, after=None, offset=0)
        while True:
            page = self.list_memories(page_query)
            yield from page.memories
            if not page.has_more or page.next_cursor is None:
                return
            page_query = replace(page_query, after=page.next_cursor)

    # --- working memory (optional) -------------------------------------------------------

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        raise self._unsupported(Capability.WORKING_MEMORY)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        raise self._unsupported(Capability.WORKING_MEMORY)

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        raise self._unsupported(Capability.WORKING_MEMORY)

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        raise self._unsupported(Capability.WORKING_MEMORY)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        raise self._unsupported(Capability.WORKING_MEMORY)

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        """Built on get_session, list_working_memory, list_memories and add_memories.
        Not atomic: an adapter that can do it in one transaction overrides it."""
        self._require(Capability.COMMIT)
        check.check_importance(min_importance, required=True)
        session = self.get_session(session_id)
        items = self.list_working_memory(session_id)

        def content_exists(content: str, _digest: str) -> bool:
            query = MemoryQuery(agent_id=session.agent_id, content_contains=content)
            return any(m.content == content for m in self._scan_memories(query))

        plan = plan_commit(
            session,
            items,
            min_importance=min_importance,
            deduplicate=deduplicate,
            content_exists=content_exists,
        )
        created = self.add_memories(plan.to_create) if plan.to_create else []
        return plan.result(created)

    # --- snapshots (optional) ------------------------------------------------------------

    def create_snapshot(self, session_id: str, snapshot: NewSnapshot) -> Snapshot:
        raise self._unsupported(Capability.SNAPSHOTS)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        raise self._unsupported(Capability.SNAPSHOTS)

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        raise self._unsupported(Capability.SNAPSHOTS)

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        raise self._unsupported(Capability.SNAPSHOTS)

    # --- briefing and context ------------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        """Built on get_agent, list_memories, list_sessions and (when offered)
        list_snapshots. Reads several times, so it is not one consistent snapshot: an
        adapter that can read in one transaction overrides it."""
        self._require(Capability.BRIEFING)
        check.check_positive_duration("lookback", lookback)
        now = self.now()
        resolved = None
        if agent_id:
            try:
                resolved = self.get_agent(agent_id).id
            except NotFoundError:
                resolved = agent_id  # unknown agents match nothing
        recent = self.list_memories(
            MemoryQuery(agent_id=resolved, since=now - lookback, limit=RECENT_ACTIVITY_LIMIT)
        ).memories
        active = self.list_sessions(agent_id=resolved, status=SessionStatus.ACTIVE.value)
        return assemble_briefing(
            now=now,
            lookback=lookback,
            recent_activity=recent,
            active_sessions=active,
            latest_snapshots=self._latest_snapshots(resolved),
            agent_id=resolved,
        )

    def _latest_snapshots(self, agent_id: str | None) -> list[Snapshot]:
        """The latest snapshot of each session, newest first."""
        if Capability.SNAPSHOTS not in self.capabilities():
            return []
        latest: list[Snapshot] = []
        for session in self.list_sessions(agent_id=agent_id):
            snapshots = self.list_snapshots(session.id)
            if snapshots:
                latest.append(max(snapshots, key=lambda s: (s.created_at, s.id)))
        latest.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return latest

    def server_context(
        self, session_id: str, *, budget_tokens: int = 2048, encoding: str = "cl100k_base"
    ) -> ServerContext:
        """The server's own context for the session (e.g. MemoryLayer's context-pack),
        with memtui's exact count of it beside the server's estimate."""
        raise self._unsupported(Capability.SERVER_CONTEXT)

    @abstractmethod
    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult: ...

    def explain_context(self, session_id: str, request: ContextRequest) -> ContextExplanation:
        """Every memory of the session, in or out of the context, with the reason; built
        on the core methods with the same engine build_context uses (as of a past time:
        on the memories history replays to it)."""
        from memtui.domain.context import explain_context, validate_context_request

        self._require(Capability.CONTEXT_EXPLAIN)
        if request.as_of:
            at, memories = self._as_of(session_id, request)
            known = self.list_memory_types()
            window = validate_context_request(request, at, known)
            return explain_context(session_id, memories, request, window)
        self.get_session(session_id)  # an unknown session is reported first
        known = self.list_memory_types(session_id=session_id)
        window = validate_context_request(request, self.now(), known)
        memories = list(self._scan_memories(MemoryQuery(session_id=session_id)))
        return explain_context(session_id, memories, request, window)

    def _as_of(self, session_id: str, request: ContextRequest) -> tuple[datetime, list[Memory]]:
        """The time `request.as_of` names and the session's memories then."""
        from memtui.domain.history import HistoryTarget
        from memtui.domain.timewindow import parse_time_bound

        self._require(Capability.HISTORY)
        at = parse_time_bound(str(request.as_of), self.now(), field="as_of")
        try:
            self.get_session(session_id)
        except NotFoundError:
            if not self.history(HistoryTarget.session(session_id)):
                raise
        return at, self.memories_as_of(session_id, at)

    def context_as_of(self, session_id: str, request: ContextRequest) -> ContextResult:
        """build_context for `request.as_of`: the engine on the memories history replays
        to that time (`since`/`until` count back from it)."""
        from memtui.domain.context import render_context, validate_context_request
        from memtui.domain.context.explain import in_window

        at, memories = self._as_of(session_id, request)
        window = validate_context_request(request, at, self.list_memory_types())
        return render_context(session_id, in_window(memories, window), request)

    def memories_as_of(self, session_id: str, at: datetime) -> list[Memory]:
        """The session's memories as they were at `at` (replayed from history), newest
        first. Capability HISTORY."""
        raise self._unsupported(Capability.HISTORY)

    # --- history (optional) -------------------------------------------------------------

    def history(self, target: HistoryTarget) -> list[Revision]:
        raise self._unsupported(Capability.HISTORY)

    # --- trash (optional) ----------------------------------------------------------------

    def list_trash(self) -> list[TrashItem]:
        raise self._unsupported(Capability.TRASH)

    def restore_from_trash(self, item_id: int) -> TrashItem:
        raise self._unsupported(Capability.TRASH)

    def purge_trash(self, item_ids: Sequence[int] | None = None) -> int:
        raise self._unsupported(Capability.TRASH)

    # --- import (optional) ---------------------------------------------------------------

    def import_records(self, records: Sequence[Record]) -> ImportOutcome:
        raise self._unsupported(Capability.IMPORT)

    # --- change feed (optional) ----------------------------------------------------------

    def latest_change_id(self) -> int:
        raise self._unsupported(Capability.EVENTS)

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        raise self._unsupported(Capability.EVENTS)
