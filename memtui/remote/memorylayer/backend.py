"""`MemoryLayerBackend`: memtui's Backend over a real `memorylayer-server` (0.2.0).

What MemoryLayer has, memtui shows; what it lacks, `capabilities()` leaves out, so the
front ends say so instead of failing (see the table in docs/memorylayer.md):

- agents are workspaces (`GET /v1/workspaces`); sessions are found by walking them,
  because `GET /v1/sessions` lists one workspace at a time;
- sessions expire (`expires_at`) and never close; extend is `touch`, which SETS the
  expiry to now + N, so memtui sends what is left + the extension and checks the new
  expiry is the one it meant;
- working memory has no versions, no per-key delete, no rename: the backend numbers
  the values it sees and re-reads a key before every save that names a version;
- memories belong to the workspace (no session link) and page by offset; a tag filters
  on the server, the rest of memtui's filters here (the server's type filter is applied
  after its paging, see `memories`);
- context is memtui's own engine over the workspace's memories and the session's
  working memory (exact tiktoken budget); `server_context` shows MemoryLayer's own
  context-pack beside memtui's exact count of it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from memtui.backend.base import CAPABILITY_TEXT, BackendBase
from memtui.config import mask_secret
from memtui.domain import validation as check
from memtui.domain.briefing import RECENT_ACTIVITY_LIMIT, assemble_briefing
from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MemtuiError,
    NotFoundError,
    UnsupportedError,
    VersionConflictError,
)
from memtui.domain.models import (
    DEFAULT_EVENT_TYPE,
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    Agent,
    AgentStats,
    Briefing,
    Capability,
    ContextRequest,
    ContextResult,
    Memory,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    Order,
    ServerContext,
    Session,
    SessionStatus,
    WorkingMemoryItem,
)
from memtui.remote.memorylayer.api import MemoryLayerApi
from memtui.remote.memorylayer.mapping import (
    DEFAULT_WORKSPACE,
    MEMORYLAYER_TYPES,
    VersionBook,
    agent_from_workspace,
    memory_from_wire,
    session_from_wire,
)
from memtui.remote.memorylayer.memories import MemoryLists, page_of
from memtui.remote.transport import ConnectionState, Transport
from memtui.remote.wire import check_json, check_tags

SERVER_LABEL = "MemoryLayer server"

# What MemoryLayer 0.2.0 offers of memtui's optional capabilities.
CAPABILITIES: frozenset[str] = frozenset(
    {
        Capability.EXPIRY,
        Capability.WORKING_MEMORY,
        Capability.BRIEFING,
        Capability.MEMORY_IDS,
        Capability.MEMORY_EDIT,
        Capability.SESSION_DELETE,
        Capability.CONTEXT_BUDGET,
        Capability.SERVER_CONTEXT,
    }
)

# Why the rest is missing, in the words a user sees.
WHY_UNSUPPORTED: dict[str, str] = {
    Capability.SESSION_CLOSE: "MemoryLayer sessions cannot be closed or reopened: they "
    "live until they expire or are deleted",
    Capability.WORKING_MEMORY_DELETE: "MemoryLayer has no way to delete one working-memory "
    "key (only the whole session)",
    Capability.WORKING_MEMORY_RENAME: "MemoryLayer cannot rename working-memory keys",
    Capability.WORKING_MEMORY_IMPORTANCE: "MemoryLayer's working memory has no importance",
    Capability.CUSTOM_MEMORY_TYPES: "MemoryLayer has four memory types: episodic, "
    "procedural, semantic and working",
    Capability.MEMORY_TIME: "MemoryLayer stamps a memory with the time it is written",
    Capability.SESSION_MEMORIES: "MemoryLayer's memories belong to the workspace: a "
    "session shows all of its workspace's memories",
    Capability.COMMIT: "MemoryLayer's open-source commit only stamps committed_at: every "
    "working-memory write is already copied into long-term memory (type working)",
    Capability.SNAPSHOTS: "MemoryLayer has no snapshots",
    Capability.EVENTS: "MemoryLayer has no event stream: memtui polls it",
}

HIDDEN_WORKSPACES = frozenset({"_global", "_global_user"})  # the server's own
EXTEND_TOLERANCE = timedelta(seconds=3)  # rounding to whole seconds plus the round trip


class MemoryLayerBackend(BackendBase):
    """The Backend protocol over MemoryLayer's REST API. Thread-safe."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        clock: Clock = utc_now,
        timeout: float = 10.0,
    ) -> None:
        from memtui.remote.backend import normalize_base_url

        super().__init__(clock=clock)
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or None
        self._transport = Transport(
            self.base_url,
            api_key=self._api_key,
            timeout=timeout,
            server_label=SERVER_LABEL,
            bearer=True,
        )
        self.api = MemoryLayerApi(self._transport)
        self._versions = VersionBook()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._memories = MemoryLists(self.api, self.now)

    def __repr__(self) -> str:
        return f"MemoryLayerBackend({self.describe()!r})"

    # --- about the backend ---------------------------------------------------------------

    def describe(self) -> str:
        key = f" (key {mask_secret(self._api_key)})" if self._api_key else ""
        return f"MemoryLayer {self.base_url}{key}"

    def capabilities(self) -> frozenset[str]:
        return CAPABILITIES

    def _unsupported_message(self, capability: str) -> str:
        why = WHY_UNSUPPORTED.get(capability)
        if why:
            return why
        return f"MemoryLayer does not offer {CAPABILITY_TEXT.get(capability, capability)}"

    @property
    def connection_state(self) -> ConnectionState:
        return self._transport.state

    def _release(self) -> None:
        self._transport.close()

    # --- agents = workspaces -------------------------------------------------------------

    def list_agents(self) -> list[Agent]:
        """Every workspace but the server's own (`_global`, `_global_user`, and
        `_default` unless a session lives there)."""
        now = self.now()
        agents = []
        for workspace in self.api.list_workspaces():
            wid = str(workspace.get("id") or "")
            if wid in HIDDEN_WORKSPACES:
                continue
            if wid == DEFAULT_WORKSPACE and not self.api.list_sessions(wid):
                continue
            agents.append(agent_from_workspace(workspace, now))
        return agents

    def _workspace_ids(self) -> list[str]:
        ids = [str(w["id"]) for w in self.api.list_workspaces() if w.get("id")]
        return ids or [DEFAULT_WORKSPACE]

    def get_agent(self, id_or_name: str) -> Agent:
        now = self.now()
        for workspace in self.api.list_workspaces():
            agent = agent_from_workspace(workspace, now)
            if id_or_name in (agent.id, agent.name):
                return agent
        raise NotFoundError(f"workspace {id_or_name!r} not found")

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        check.check_text("name", name, max_length=check.MAX_ID_LENGTH)
        try:
            self.get_agent(name)
        except NotFoundError:
            pass
        else:
            raise ConflictError(f"workspace {name!r} exists")
        settings = check.check_object("config", config or {})
        if description:
            settings = {**settings, "description": description}
        created = self.api.create_workspace(name, name, settings)
        return agent_from_workspace(created, self.now())

    def ensure_agent(self, id_or_name: str) -> Agent:
        try:
            return self.get_agent(id_or_name)
        except NotFoundError:
            pass
        try:
            return self.create_agent(id_or_name)
        except ConflictError:
            return self.get_agent(id_or_name)

    def delete_agent(self, agent_id: str) -> None:
        agent = self.get_agent(agent_id)
        self.api.delete_workspace(agent.id)

    def agent_stats(self, agent_id: str) -> AgentStats:
        agent = self.get_agent(agent_id)
        now = self.now()
        memories = list(self._memories.walk(agent.id))
        day_ago = now - timedelta(hours=24)
        types: dict[str, int] = {}
        for memory in memories:
            types[memory.memory_type] = types.get(memory.memory_type, 0) + 1
        sessions = self._sessions_of(agent.id, now)
        times = [m.time for m in memories] + [s.created_at for s in sessions]
        return AgentStats(
            agent_id=agent.id,
            memory_count=len(memories),
            memories_24h=sum(1 for m in memories if m.time >= day_ago),
            errors_24h=sum(1 for m in memories if m.time >= day_ago and m.is_error),
            session_count=len(sessions),
            active_sessions=sum(
                1 for s in sessions if s.effective_status(now) == SessionStatus.ACTIVE
            ),
            last_active_at=max(times) if times else None,
            memory_types=types,
        )

    # --- sessions ------------------------------------------------------------------------

    def _sessions_of(self, workspace_id: str, now: datetime) -> list[Session]:
        return [session_from_wire(s, now) for s in self.api.list_sessions(workspace_id)]

    def create_session(
        self,
        agent_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        ttl: timedelta | None = DEFAULT_SESSION_TTL,
        session_id: str | None = None,
    ) -> Session:
        """The session goes into `workspace_id`, else the workspace named `agent_id`."""
        workspace = workspace_id or agent_id
        check.check_text("agent_id", workspace, max_length=check.MAX_ID_LENGTH)
        if ttl is None:
            raise InvalidInputError(
                "MemoryLayer sessions always expire: give a ttl", field="ttl", value=None
            )
        check.check_positive_duration("ttl", ttl)
        check_json("metadata", metadata or {})
        if session_id is not None:
            check.check_id("session_id", session_id)
            try:
                self.api.get_session(session_id)
            except NotFoundError:
                pass
            else:
                raise ConflictError(f"session {session_id!r} exists")
        self.ensure_agent(workspace)
        body = {
            "session_id": session_id,
            "workspace_id": workspace,
            "ttl_seconds": max(1, math.ceil(ttl.total_seconds())),
            "metadata": metadata or {},
        }
        return session_from_wire(self.api.create_session(body, workspace), self.now())

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        """Every workspace's sessions (or one workspace's), newest first."""
        if status is not None and status not in {s.value for s in SessionStatus}:
            raise InvalidInputError(
                f"unknown session status {status!r} (use active, closed or expired)",
                field="status",
                value=status,
            )
        now = self.now()
        workspaces = [agent_id] if agent_id else self._workspace_ids()

        def of(workspace: str) -> list[Session]:
            try:
                return self._sessions_of(workspace, now)
            except NotFoundError:
                return []  # removed between the two calls

        # One request per workspace, a few at a time (the Transport's pool is shared).
        with ThreadPoolExecutor(max_workers=min(8, len(workspaces))) as pool:
            sessions = [s for found in pool.map(of, workspaces) for s in found]
        if status is not None:
            sessions = [s for s in sessions if s.effective_status(now) == status]
        sessions.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return sessions[:limit] if limit is not None else sessions

    def get_session(self, session_id: str) -> Session:
        try:
            return session_from_wire(self.api.get_session(session_id), self.now())
        except NotFoundError:
            raise NotFoundError(f"session {session_id!r} not found") from None

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        if status == SessionStatus.EXPIRED:
            raise InvalidInputError(
                "status 'expired' cannot be set: it follows from expires_at",
                field="status",
                value=status,
            )
        if status not in (None, SessionStatus.ACTIVE, SessionStatus.CLOSED):
            raise InvalidInputError(
                f"unknown session status {status!r}", field="status", value=status
            )
        if status == SessionStatus.CLOSED:
            raise self._unsupported(Capability.SESSION_CLOSE)
        session = self.get_session(session_id)
        if metadata is not None:
            raise UnsupportedError(
                "MemoryLayer cannot change a session's metadata after it is created",
                capability=None,
            )
        return session  # active already: MemoryLayer sessions are never closed

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        """Adds `by` to what is left. MemoryLayer's touch SETS now + N, so N is what is
        left plus `by`; the new expiry is read back and checked."""
        check.check_positive_duration("by", by)
        session = self.get_session(session_id)
        now = self.now()
        current = session.expires_at or now
        wanted = max(current, now) + by
        seconds = max(1, math.ceil((wanted - now).total_seconds()))
        self.api.touch_session(session_id, seconds)
        extended = self.get_session(session_id)
        got = extended.expires_at
        if got is None or abs(got - wanted) > EXTEND_TOLERANCE:
            raise BackendUnavailableError(
                f"the MemoryLayer server set {session_id}'s expiry to {got} instead of "
                f"{wanted} (asked for {seconds} s from now): check the server's clock"
            )
        return extended

    def delete_session(self, session_id: str) -> None:
        try:
            self.api.delete_session(session_id)
        except NotFoundError:
            raise NotFoundError(f"session {session_id!r} not found") from None
        self._versions.forget_session(session_id)

    # --- memories ------------------------------------------------------------------------

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        return list(MEMORYLAYER_TYPES)

    def _check_type(self, name: str, value: str, index: int | None = None) -> str:
        """A type of memtui's own (decision, session…) cannot be stored: MemoryLayer
        has four (capability custom_memory_types missing)."""
        if value not in MEMORYLAYER_TYPES:
            where = f" (memory {index})" if index is not None else ""
            raise UnsupportedError(
                f"{name} {value!r} is not a MemoryLayer type "
                f"({', '.join(MEMORYLAYER_TYPES)}){where}",
                capability=Capability.CUSTOM_MEMORY_TYPES,
            )
        return value

    def _workspace_of_session(self, session_id: str) -> str:
        return self.get_session(session_id).workspace_id or DEFAULT_WORKSPACE

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        """One POST each (memories do not link to sessions: a session id only picks the
        workspace). If one fails, the ones already written are deleted again."""
        bodies: list[tuple[str, dict[str, Any]]] = []
        for index, memory in enumerate(memories):
            check.check_new_memory(memory, index if len(memories) > 1 else None)
            self._check_type("memory_type", memory.memory_type, index)
            workspace = (
                self._workspace_of_session(memory.session_id)
                if memory.session_id
                else memory.agent_id
            )
            body: dict[str, Any] = {
                "content": memory.content,
                "type": memory.memory_type,
                "tags": check_tags(list(memory.tags), index=index),
                "metadata": dict(memory.metadata or {}),
                "workspace_id": workspace,
            }
            if memory.event_type != DEFAULT_EVENT_TYPE:
                body["subtype"] = memory.event_type
            if memory.importance is not None:
                body["importance"] = memory.importance
            bodies.append((workspace, body))
        created: list[Memory] = []
        now = self.now()
        try:
            for workspace, body in bodies:
                self.ensure_agent(workspace)
                self._forget_lists()
                memory = memory_from_wire(self.api.create_memory(body, workspace), now)
                created.append(memory)
        except MemtuiError:
            for memory in created:  # all or nothing, as far as the server lets us
                with contextlib.suppress(MemtuiError):
                    self.api.delete_memory(memory.id, memory.agent_id)
            raise
        return created

    def get_memory(self, memory_id: str) -> Memory:
        """Any workspace's memory (the route finds it without the workspace header)."""
        try:
            data = self.api.get_memory(memory_id)
        except NotFoundError:
            raise NotFoundError(f"memory {memory_id!r} not found") from None
        memory = memory_from_wire(data, self.now())
        return memory

    def _scope(self, query: MemoryQuery) -> list[str]:
        """The workspaces a query reads: its session's, its agent's, else all."""
        if query.session_id:
            return [self._workspace_of_session(query.session_id)]
        if query.agent_id:
            return [query.agent_id]
        return self._workspace_ids()

    def _ordered(self, query: MemoryQuery) -> list[Memory]:
        return self._memories.ordered(query, lambda: self._scope(query))

    def _forget_lists(self) -> None:
        self._memories.forget()

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        return page_of(self._ordered(query), query)

    def count_memories(self, query: MemoryQuery) -> int:
        return len(self._ordered(query))

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        current = self.get_memory(memory_id)
        body: dict[str, Any] = {}
        if patch.content is not None:
            body["content"] = check.check_text("content", patch.content)
        if patch.memory_type is not None:
            body["type"] = self._check_type("memory_type", patch.memory_type)
        if patch.event_type is not None:
            check.check_type_name("event_type", patch.event_type)
            body["subtype"] = patch.event_type
        if patch.tags is not None:
            body["tags"] = check.check_tags(patch.tags)
        if patch.importance is not None:
            body["importance"] = check.check_importance(patch.importance)
        if patch.metadata is not None:
            body["metadata"] = check.check_object("metadata", patch.metadata)
        if not body:
            return current
        # 0.2.0 classifies new content again after a PUT: the importance and metadata
        # sent with it are answered but not kept (0.5 and its own metadata are stored).
        # They go in a second PUT.
        later = {}
        if "content" in body:
            later = {k: body.pop(k) for k in ("importance", "metadata") if k in body}
        self._forget_lists()
        data = self.api.update_memory(memory_id, body, current.agent_id)
        if later:
            data = self.api.update_memory(memory_id, later, current.agent_id)
        return memory_from_wire(data, self.now())

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        deleted = 0
        for memory_id in dict.fromkeys(memory_ids):
            try:
                memory = self.get_memory(memory_id)
                self._forget_lists()
                self.api.delete_memory(memory_id, memory.agent_id)
            except NotFoundError:
                continue
            deleted += 1
        return deleted

    # --- working memory ------------------------------------------------------------------

    def _key_lock(self, session_id: str, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault((session_id, key), threading.Lock())

    def _read_items(self, session_id: str) -> dict[str, Any]:
        try:
            return self.api.get_working_memory(session_id)
        except NotFoundError:
            raise NotFoundError(f"session {session_id!r} not found") from None

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        now = self.now()
        values = self._read_items(session_id)
        if not values:
            self.get_session(session_id)  # an unknown session is an error, not empty
        return [self._versions.observe(session_id, k, values[k], now) for k in sorted(values)]

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        values = self._read_items(session_id)
        if key not in values:
            self.get_session(session_id)
            raise NotFoundError(f"working-memory key {key!r} not found in {session_id}")
        return self._versions.observe(session_id, key, values[key], self.now())

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        """With `expected_version`, the key is re-read first and a different value than
        that version had is refused (VersionConflictError with the current item). Not
        atomic on the server (it has no versions): two writers in other processes
        racing within one round trip can still both write."""
        check.check_text("key", key, max_length=check.MAX_ID_LENGTH)
        check.check_json("value", value)
        if importance is not None:
            check.check_importance(importance)
            raise self._unsupported(Capability.WORKING_MEMORY_IMPORTANCE)
        with self._key_lock(session_id, key):
            if expected_version is not None:
                current = self._current(session_id, key)
                current_version = current.version if current is not None else 0
                if current_version != expected_version:
                    raise VersionConflictError(
                        f"{key!r} changed since version {expected_version} was read "
                        f"(now {'version ' + str(current_version) if current else 'gone'})",
                        current=current,
                        expected_version=expected_version,
                    )
            self._forget_lists()  # the server copies the write into long-term memory
            try:
                data = self.api.set_working_memory(session_id, key, value)
            except NotFoundError:
                raise NotFoundError(f"session {session_id!r} not found") from None
            return self._versions.wrote(session_id, key, data.get("value", value), self.now())

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        raise self._unsupported(Capability.WORKING_MEMORY_RENAME)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        raise self._unsupported(Capability.WORKING_MEMORY_DELETE)

    def _current(self, session_id: str, key: str) -> WorkingMemoryItem | None:
        values = self._read_items(session_id)
        if key not in values:
            self.get_session(session_id)
            return None
        return self._versions.observe(session_id, key, values[key], self.now())

    # --- briefing and context ------------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        """MemoryLayer's GET /v1/sessions/briefing per workspace for recent activity,
        with memtui's active and expiring-soon sessions beside it."""
        check.check_positive_duration("lookback", lookback)
        now = self.now()
        workspaces = [self.get_agent(agent_id).id] if agent_id else self._workspace_ids()
        minutes = max(1, math.ceil(lookback.total_seconds() / 60))
        recent: list[Memory] = []
        threads: list[Any] = []
        for workspace in workspaces:
            data = self.api.briefing(workspace, minutes, RECENT_ACTIVITY_LIMIT)
            briefing = data.get("briefing") if isinstance(data, dict) else None
            if not isinstance(briefing, dict):
                continue
            for row in briefing.get("memories") or []:
                if isinstance(row, dict) and row.get("id"):
                    recent.append(memory_from_wire(row, now))
            threads.extend(briefing.get("open_threads") or [])
        recent = [m for m in recent if m.time >= now - lookback]
        recent.sort(key=lambda m: (m.time, m.id), reverse=True)
        active = [
            s
            for s in self.list_sessions(agent_id=agent_id)
            if s.effective_status(now) == SessionStatus.ACTIVE
        ]
        return assemble_briefing(
            now=now,
            lookback=lookback,
            recent_activity=recent[:RECENT_ACTIVITY_LIMIT],
            active_sessions=active,
            latest_snapshots=[],
            agent_id=agent_id,
        )

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        """memtui's engine over the workspace's memories and the session's current
        working memory (as memories of type `working`), exact tiktoken budget."""
        from memtui.domain.context import render_context, validate_context_request

        session = self.get_session(session_id)
        now = self.now()
        window = validate_context_request(request, now, MEMORYLAYER_TYPES)
        workspace = session.workspace_id or DEFAULT_WORKSPACE
        query = MemoryQuery(
            agent_id=workspace,
            memory_types=tuple(window.include_types),
            exclude_types=tuple(window.exclude_types),
            since=window.since,
            until=window.until,
        )
        # MemoryLayer copies every working-memory write into long-term memory (type
        # working); the session's current values stand in for those copies.
        memories = [m for m in self._ordered(query) if m.memory_type != "working"]
        if _type_wanted("working", window.include_types, window.exclude_types):
            for item in self.list_working_memory(session_id):
                if _in_window(item.updated_at, window.since, window.until):
                    memories.append(working_memory_as_memory(item, workspace))
        memories.sort(key=lambda m: (m.time, m.id), reverse=request.order != Order.ASC)
        return render_context(session_id, memories, request)

    def server_context(
        self, session_id: str, *, budget_tokens: int = 2048, encoding: str = "cl100k_base"
    ) -> ServerContext:
        """MemoryLayer's own context-pack for the session, with its estimate (characters
        / 3) and memtui's exact tiktoken count of the same text."""
        from memtui.domain.tokens import count_tokens

        if not isinstance(budget_tokens, int) or budget_tokens < 1:
            raise InvalidInputError(
                f"budget_tokens must be a positive integer, got {budget_tokens!r}",
                field="budget_tokens",
                value=budget_tokens,
            )
        session = self.get_session(session_id)
        data = self.api.context_pack(session_id, budget_tokens, session.workspace_id)
        rendered = str(data.get("rendered") or "")
        summary = data.get("budget_summary") or {}
        return ServerContext(
            session_id=session_id,
            text=rendered,
            server_tokens=int(summary.get("used") or 0),
            server_estimator=str(summary.get("estimator") or "unknown"),
            exact_tokens=count_tokens(rendered, encoding),
            encoding=encoding,
            item_count=len(data.get("items") or []),
            budget_tokens=budget_tokens,
        )


def working_memory_as_memory(item: WorkingMemoryItem, workspace: str) -> Memory:
    from memtui.domain.commit import commit_content

    return Memory(
        id=f"wm:{item.key}",
        time=item.updated_at,
        agent_id=workspace,
        content=commit_content(item.key, item.value),
        memory_type="working",
        session_id=item.session_id,
        importance=item.importance,
    )


def _type_wanted(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    return name not in exclude and (not include or name in include)


def _in_window(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at <= until)
