"""`MemtraceClient`: the Backend over a plain Memtrace v1 server, and the base of
memtui's own client (a memtui server is Memtrace plus extensions).

Plain Memtrace specifics (documented choices):
- Memtrace memories have no id. Each one gets a *synthetic* id, `mtr_` + the first 16
  hex digits of a SHA-1 over (time, agent, session, type, event type, content), so
  the TUI can key rows and show details. Synthetic ids are stable across listings, but
  they cannot be used to edit or delete (no such route): get_memory serves them from a
  local cache of memories already listed, and edit/delete raise UnsupportedError.
- Memtrace pages with `offset`; the client emulates keyset paging with a cursor whose
  id part is `offset:N`, and applies the filters Memtrace lacks (several types,
  excluded types, text, minimum importance) on the client.
- Context `token_count` is computed locally with tiktoken when the server leaves it out.
- Sessions never expire there (no `expires_at`); a `ttl` is ignored.
- Everything else memtui offers (working memory, snapshots, briefing, …) is refused by
  BackendBase with UnsupportedError naming the capability.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from memtui.backend.base import CAPABILITY_TEXT, BackendBase
from memtui.domain.clock import Clock
from memtui.domain.errors import InvalidInputError, NotFoundError, UnsupportedError
from memtui.domain.models import (
    DEFAULT_SESSION_TTL,
    Agent,
    AgentStats,
    Capability,
    ContextRequest,
    ContextResult,
    Memory,
    MemoryCursor,
    MemoryPage,
    MemoryQuery,
    NewMemory,
    Session,
    SessionStatus,
    dt_to_json,
    implied_capabilities,
)
from memtui.remote.transport import Transport
from memtui.remote.wire import (
    OFFSET_CURSOR_PREFIX,
    SYNTHETIC_ID_PREFIX,
    check_json,
    drop_none,
    matches_locally,
    new_memory_json,
    segment,
    synthetic_memory_id,
)

_SYNTHETIC_CACHE_LIMIT = 50_000
_PLAIN_PAGE = 500  # rows per request when the client filters plain Memtrace pages


class MemtraceClient(BackendBase):
    """Memtrace v1 over one Transport (owned and closed by the caller). Thread-safe."""

    # What a subclass for a richer server turns on.
    sends_memory_ids = False  # POST /memories may carry the client's ids
    sends_encoding = False  # POST …/context may name the tokenizer

    def __init__(
        self,
        transport: Transport,
        *,
        base_url: str,
        description: str,
        features: frozenset[str],
        clock: Clock,
    ) -> None:
        super().__init__(clock=clock)
        self._transport = transport
        self.base_url = base_url
        self._description = description
        self._features = features
        self._lock = threading.Lock()
        self._wrote = False  # a write since the last changes fetch: read our own writes
        self._synthetic: OrderedDict[str, Memory] = OrderedDict()

    # --- about the backend ---------------------------------------------------------------

    def describe(self) -> str:
        return self._description

    def capabilities(self) -> frozenset[str]:
        return implied_capabilities(self._features)

    def _unsupported_message(self, capability: str) -> str:
        what = CAPABILITY_TEXT.get(capability, capability)
        return f"this server is a plain Memtrace server: it has no {what}"

    # --- requests ------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._transport.request("GET", path, params=params)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """A request that changes something on the server."""
        self._wrote = True
        return self._transport.request(
            method, path, json=json, params=params, idempotent=idempotent
        )

    # --- agents --------------------------------------------------------------------------

    def create_agent(
        self, name: str, *, description: str = "", config: dict[str, Any] | None = None
    ) -> Agent:
        body = {
            "name": name,
            "description": description,
            "config": check_json("config", config or {}),
        }
        return Agent.from_json(self._send("POST", "/agents", json=body))

    def list_agents(self) -> list[Agent]:
        data = self._get("/agents")
        return [Agent.from_json(a) for a in data.get("agents") or []]

    def get_agent(self, id_or_name: str) -> Agent:
        return Agent.from_json(self._get(f"/agents/{segment(id_or_name)}"))

    def delete_agent(self, agent_id: str) -> None:
        self._send("DELETE", f"/agents/{segment(agent_id)}")

    def agent_stats(self, agent_id: str) -> AgentStats:
        return AgentStats.from_json(self._get(f"/agents/{segment(agent_id)}/stats"))

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
        """Memtrace sessions never expire and have no workspace: those are ignored."""
        if session_id is not None:
            raise UnsupportedError(
                "this server is a plain Memtrace server: it chooses session ids itself",
                capability=None,
            )
        body = {"agent_id": agent_id, "metadata": check_json("metadata", metadata or {})}
        return Session.from_json(self._send("POST", "/sessions", json=body))

    @staticmethod
    def _check_status(status: str | None) -> None:
        if status is not None and status not in {s.value for s in SessionStatus}:
            raise InvalidInputError(
                f"unknown session status {status!r} (use active, closed or expired)",
                field="status",
                value=status,
            )

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        """Memtrace filters by agent only: status, order and limit are applied here."""
        self._check_status(status)
        data = self._get("/sessions", {"agent_id": agent_id})
        sessions = [Session.from_json(s) for s in data.get("sessions") or []]
        now = self.now()
        if status is not None:
            sessions = [s for s in sessions if s.effective_status(now) == status]
        sessions.sort(key=lambda s: s.created_at, reverse=True)
        return sessions[:limit] if limit is not None else sessions

    def get_session(self, session_id: str) -> Session:
        return Session.from_json(self._get(f"/sessions/{segment(session_id)}"))

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        body = drop_none({"status": status, "metadata": check_json("metadata", metadata)})
        return Session.from_json(self._send("PUT", f"/sessions/{segment(session_id)}", json=body))

    # --- memories ------------------------------------------------------------------------

    def _memory_from_json(self, data: dict[str, Any]) -> Memory:
        if data.get("id"):
            return Memory.from_json(data)
        memory = Memory.from_json({**data, "id": synthetic_memory_id(data)})
        with self._lock:
            self._synthetic[memory.id] = memory
            self._synthetic.move_to_end(memory.id)
            while len(self._synthetic) > _SYNTHETIC_CACHE_LIMIT:
                self._synthetic.popitem(last=False)
        return memory

    def add_memories(self, memories: Sequence[NewMemory]) -> list[Memory]:
        if not memories:
            return []
        with_id = self.sends_memory_ids
        body = {
            "memories": [
                new_memory_json(m, with_id=with_id, index=i) for i, m in enumerate(memories)
            ]
        }
        data = self._send("POST", "/memories", json=body)
        if isinstance(data, dict) and "memories" in data:
            return [self._memory_from_json(m) for m in data["memories"]]
        return [self._memory_from_json(data)]

    def get_memory(self, memory_id: str) -> Memory:
        """Only synthetic ids of memories already listed (Memtrace has no such route)."""
        if memory_id.startswith(SYNTHETIC_ID_PREFIX):
            with self._lock:
                cached = self._synthetic.get(memory_id)
            if cached is not None:
                return cached
            raise NotFoundError(f"memory {memory_id!r} not found (list memories first)")
        raise self._unsupported(Capability.MEMORY_IDS)

    def _scan(self, query: MemoryQuery, *, offset: int) -> Iterator[tuple[int, Memory]]:
        """Yield (server offset, memory) for every memory matching `query`, reading
        Memtrace's offset pages and filtering what it cannot filter itself."""
        params: dict[str, Any] = {
            "agent_id": query.agent_id,
            "session_id": query.session_id,
            "memory_type": query.memory_types[0] if len(query.memory_types) == 1 else None,
            "event_type": query.event_types[0] if len(query.event_types) == 1 else None,
            "tags": ",".join(query.tags) or None,
            "since": dt_to_json(query.since),
            "until": dt_to_json(query.until),
            "order": query.order,
            "limit": _PLAIN_PAGE,
        }
        position = offset
        while True:
            data = self._get("/memories", {**params, "offset": position})
            rows = data.get("memories") or []
            for row in rows:
                memory = self._memory_from_json(row)
                if matches_locally(memory, query):
                    yield position, memory
                position += 1
            if not rows or not data.get("has_more", len(rows) >= _PLAIN_PAGE):
                return

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        offset = query.offset
        if query.after is not None:
            if not query.after.id.startswith(OFFSET_CURSOR_PREFIX):
                raise InvalidInputError(
                    f"invalid cursor {query.after.encode()!r} for a plain Memtrace server",
                    field="after",
                )
            offset = int(query.after.id[len(OFFSET_CURSOR_PREFIX) :])
        found: list[tuple[int, Memory]] = []
        for position, memory in self._scan(query, offset=offset):
            found.append((position, memory))
            if len(found) > query.limit:
                break
        has_more = len(found) > query.limit
        page = found[: query.limit]
        next_cursor = None
        if has_more and page:
            last_position, last = page[-1]
            next_cursor = MemoryCursor(
                time=last.time, id=f"{OFFSET_CURSOR_PREFIX}{last_position + 1}"
            )
        return MemoryPage(memories=[m for _, m in page], has_more=has_more, next_cursor=next_cursor)

    def count_memories(self, query: MemoryQuery) -> int:
        return sum(1 for _ in self._scan(query, offset=0))

    # --- context -------------------------------------------------------------------------

    def _context_body(self, request: ContextRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "since": request.since,
            "until": request.until,
            "include_types": list(request.include_types),
            "exclude_types": list(request.exclude_types),
            "max_tokens": request.max_tokens,
            "order": request.order,
        }
        if self.sends_encoding:
            body["encoding"] = request.encoding
            body["as_of"] = request.as_of
        elif request.as_of:
            raise self._unsupported(Capability.HISTORY)  # a plain server keeps no history
        return drop_none(body)

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        body = self._context_body(request)
        # Building context changes nothing: safe to retry like a GET.
        data = self._transport.request(
            "POST", f"/sessions/{segment(session_id)}/context", json=body, idempotent=True
        )
        context = str(data.get("context") or "")
        token_count = data.get("token_count")
        if token_count is None:
            from memtui.domain.tokens import count_tokens

            token_count = count_tokens(context, request.encoding)
        return ContextResult(
            session_id=str(data.get("session_id") or session_id),
            context=context,
            memory_count=int(data.get("memory_count") or 0),
            token_count=int(token_count),
            max_tokens=data.get("max_tokens", request.max_tokens),
            truncated=bool(data.get("truncated", False)),
            omitted_count=int(data.get("omitted_count") or 0),
            encoding=str(data.get("encoding") or request.encoding),
        )
