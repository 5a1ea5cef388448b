"""`HttpBackend`: the Backend protocol over HTTP, against `memtui serve` or a plain
Memtrace v1 server.

Capabilities come from `GET /health`: a memtui server lists its `features`; any other
server is taken to be plain Memtrace and offers none of memtui's extensions. Methods
that need a missing capability raise UnsupportedError(capability=…) with a polite
message; everything Memtrace itself offers keeps working.

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
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from memtui.backend.base import CAPABILITY_TEXT, BackendBase
from memtui.config import mask_secret
from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import (
    InvalidInputError,
    MemtuiError,
    NotFoundError,
    UnsupportedError,
    VersionConflictError,
)
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
    MemoryCursor,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    Session,
    SessionStatus,
    Snapshot,
    WorkingMemoryItem,
    dt_to_json,
)
from memtui.remote.events import EventFollower, _StreamRefused
from memtui.remote.transport import (
    ConnectionState,
    ConnectionStatus,
    Transport,
    describe_connect_error,
)

MEMTUI_SERVICE = "memtui"

SYNTHETIC_ID_PREFIX = "mtr_"
OFFSET_CURSOR_PREFIX = "offset:"
_SYNTHETIC_CACHE_LIMIT = 50_000
_PLAIN_PAGE = 500  # rows per request when the client filters plain Memtrace pages
MAX_PAGE = 1000  # the most rows the server returns per page


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What GET /health told us."""

    service: str
    version: str | None
    features: frozenset[str]

    @property
    def is_memtui(self) -> bool:
        return self.service == MEMTUI_SERVICE


def normalize_base_url(url: str) -> str:
    """`127.0.0.1:9100`, `http://host:9100/` and `http://host:9100/api/v1` all become
    `http://host:9100`."""
    text = url.strip()
    if not text:
        raise InvalidInputError("no server URL given (--server or MEMTUI_SERVER)", field="server")
    if "://" not in text:
        text = "http://" + text
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise InvalidInputError(
            f"invalid server URL {url!r}: {exc}", field="server", value=url
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInputError(
            f"invalid server URL {url!r}: use http://HOST:PORT or https://HOST",
            field="server",
            value=url,
        )
    path = parsed.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return str(parsed.copy_with(path=path or "/", query=None, fragment=None)).rstrip("/")


def _segment(value: str) -> str:
    """One URL path segment: keys and ids may contain '/', spaces, anything."""
    return quote(value, safe="")


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _check_json(field: str, value: Any, *, index: int | None = None) -> Any:
    """Refuse what JSON cannot carry (sets, NaN, objects) here, naming the field, rather
    than failing inside the HTTP client with a raw TypeError."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        where = f" (memory {index})" if index is not None else ""
        raise InvalidInputError(
            f"{field} must be plain JSON{where}: {exc}", field=field, value=value
        ) from None
    return value


def _check_tags(tags: Any, *, index: int | None = None) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, list | tuple):
        where = f" (memory {index})" if index is not None else ""
        raise InvalidInputError(
            f"tags must be a list of strings, got {tags!r}{where}", field="tags", value=tags
        )
    if not all(isinstance(tag, str) for tag in tags):
        raise InvalidInputError(
            f"tags must be a list of strings, got {tags!r}", field="tags", value=tags
        )
    return list(tags)


def synthetic_memory_id(data: dict[str, Any]) -> str:
    basis = "\x1f".join(
        str(data.get(name) or "")
        for name in ("time", "agent_id", "session_id", "memory_type", "event_type", "content")
    )
    return SYNTHETIC_ID_PREFIX + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


class HttpBackend(BackendBase):
    """The Backend protocol over HTTP. Thread-safe; one pooled httpx client.

    `connection_state` (read-only) tells a status bar whether the server answered the
    last request: status connected / reconnecting / disconnected / unknown, plus the
    last error message (user-facing, key never included).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        clock: Clock = utc_now,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or None
        self.timeout = timeout
        self._transport = Transport(self.base_url, api_key=self._api_key, timeout=timeout)
        self._lock = threading.Lock()
        self._info: ServerInfo | None = None
        self._follower: EventFollower | None = None
        self._wrote = False  # a write since the last changes fetch: read our own writes
        self._synthetic: OrderedDict[str, Memory] = OrderedDict()

    def __repr__(self) -> str:
        return f"HttpBackend({self.describe()!r})"

    # --- about the backend ---------------------------------------------------------------

    def describe(self) -> str:
        if self._api_key:
            return f"{self.base_url} (key {mask_secret(self._api_key)})"
        return self.base_url

    @property
    def connection_state(self) -> ConnectionState:
        return self._transport.state

    @property
    def server_info(self) -> ServerInfo:
        """GET /health, asked once and remembered (asked again while it fails)."""
        info = self._info
        if info is not None:
            return info
        try:
            data = self._transport.request("GET", "/health", api=False)
        except NotFoundError:
            data = self._transport.request("GET", "/health", api=True)
        if not isinstance(data, dict):
            data = {}
        service = str(data.get("service") or "memtrace")
        features = data.get("features") if service == MEMTUI_SERVICE else None
        info = ServerInfo(
            service=service,
            version=data.get("version") if isinstance(data.get("version"), str) else None,
            features=frozenset(str(f) for f in features or ()),
        )
        with self._lock:
            self._info = info
        return info

    @property
    def is_plain_memtrace(self) -> bool:
        return not self.server_info.is_memtui

    def capabilities(self) -> frozenset[str]:
        return self.server_info.features

    def _unsupported_message(self, capability: str) -> str:
        what = CAPABILITY_TEXT.get(capability, capability)
        if self.server_info.is_memtui:
            return f"the memtui server at {self.base_url} does not offer {what}"
        return f"this server is a plain Memtrace server: it has no {what}"

    def _release(self) -> None:
        follower = self._follower
        if follower is not None:
            follower.stop()
        self._transport.close()

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
            "config": _check_json("config", config or {}),
        }
        return Agent.from_json(self._send("POST", "/agents", json=body))

    def ensure_agent(self, id_or_name: str) -> Agent:
        if not self.is_plain_memtrace:
            # memtui's PUT /agents/{id} gets or registers in one step (name = id), as the
            # SQL store does; plain Memtrace has no such route.
            return Agent.from_json(
                self._send("PUT", f"/agents/{_segment(id_or_name)}", idempotent=True)
            )
        return super().ensure_agent(id_or_name)

    def list_agents(self) -> list[Agent]:
        data = self._get("/agents")
        return [Agent.from_json(a) for a in data.get("agents") or []]

    def get_agent(self, id_or_name: str) -> Agent:
        return Agent.from_json(self._get(f"/agents/{_segment(id_or_name)}"))

    def delete_agent(self, agent_id: str) -> None:
        self._send("DELETE", f"/agents/{_segment(agent_id)}")

    def agent_stats(self, agent_id: str) -> AgentStats:
        return AgentStats.from_json(self._get(f"/agents/{_segment(agent_id)}/stats"))

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
        body: dict[str, Any] = {
            "agent_id": agent_id,
            "metadata": _check_json("metadata", metadata or {}),
        }
        if not self.is_plain_memtrace:
            if workspace_id is not None:
                body["workspace_id"] = workspace_id
            if session_id is not None:
                body["session_id"] = session_id
            body["ttl_seconds"] = None if ttl is None else round(ttl.total_seconds())
        elif session_id is not None:
            raise UnsupportedError(
                "this server is a plain Memtrace server: it chooses session ids itself",
                capability=None,
            )
        return Session.from_json(self._send("POST", "/sessions", json=body))

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        if status is not None and status not in {s.value for s in SessionStatus}:
            raise InvalidInputError(
                f"unknown session status {status!r} (use active, closed or expired)",
                field="status",
                value=status,
            )
        if self.is_plain_memtrace:
            data = self._get("/sessions", {"agent_id": agent_id})
            sessions = [Session.from_json(s) for s in data.get("sessions") or []]
            now = self.now()
            if status is not None:
                sessions = [s for s in sessions if s.effective_status(now) == status]
            sessions.sort(key=lambda s: s.created_at, reverse=True)
            return sessions[:limit] if limit is not None else sessions
        data = self._get("/sessions", {"agent_id": agent_id, "status": status, "limit": limit})
        return [Session.from_json(s) for s in data.get("sessions") or []]

    def get_session(self, session_id: str) -> Session:
        return Session.from_json(self._get(f"/sessions/{_segment(session_id)}"))

    def update_session(
        self,
        session_id: str,
        *,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        body = _drop_none({"status": status, "metadata": _check_json("metadata", metadata)})
        return Session.from_json(self._send("PUT", f"/sessions/{_segment(session_id)}", json=body))

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        self._require(Capability.EXPIRY)
        body = {"seconds": round(by.total_seconds())}
        data = self._send("POST", f"/sessions/{_segment(session_id)}/extend", json=body)
        return Session.from_json(data)

    def delete_session(self, session_id: str) -> None:
        self._require(Capability.SESSION_DELETE)
        self._send("DELETE", f"/sessions/{_segment(session_id)}")

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
        plain = self.is_plain_memtrace
        body = {
            "memories": [_new_memory_json(m, plain=plain, index=i) for i, m in enumerate(memories)]
        }
        data = self._send("POST", "/memories", json=body)
        if isinstance(data, dict) and "memories" in data:
            return [self._memory_from_json(m) for m in data["memories"]]
        return [self._memory_from_json(data)]

    def get_memory(self, memory_id: str) -> Memory:
        if memory_id.startswith(SYNTHETIC_ID_PREFIX) and self.is_plain_memtrace:
            with self._lock:
                cached = self._synthetic.get(memory_id)
            if cached is not None:
                return cached
            raise NotFoundError(f"memory {memory_id!r} not found (list memories first)")
        self._require(Capability.MEMORY_IDS)
        return self._memory_from_json(self._get(f"/memories/{_segment(memory_id)}"))

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        if self.is_plain_memtrace:
            return self._plain_list_memories(query)
        if query.limit > MAX_PAGE:
            return self._list_memories_in_pages(query)
        data = self._get("/memories", _memory_params(query))
        memories = [self._memory_from_json(m) for m in data.get("memories") or []]
        token = data.get("next_cursor")
        has_more = bool(data.get("has_more"))
        next_cursor = MemoryCursor.decode(token) if token else None
        if next_cursor is None and has_more and memories:
            next_cursor = MemoryCursor(time=memories[-1].time, id=memories[-1].id)
        return MemoryPage(memories=memories, has_more=has_more, next_cursor=next_cursor)

    def _list_memories_in_pages(self, query: MemoryQuery) -> MemoryPage:
        """The server pages at most MAX_PAGE rows at a time; a bigger `limit` is served
        by following its cursor."""
        memories: list[Memory] = []
        page_query = replace(query, limit=MAX_PAGE)
        while True:
            want = query.limit - len(memories)
            page = self.list_memories(replace(page_query, limit=min(want, MAX_PAGE)))
            memories.extend(page.memories)
            if not page.has_more or len(memories) >= query.limit or page.next_cursor is None:
                return MemoryPage(memories, has_more=page.has_more, next_cursor=page.next_cursor)
            page_query = replace(page_query, after=page.next_cursor, offset=0)

    def count_memories(self, query: MemoryQuery) -> int:
        if self.is_plain_memtrace:
            return sum(1 for _ in self._plain_scan(query, offset=0))
        params = _memory_params(query)
        for paging in ("limit", "offset", "after", "order"):
            params.pop(paging, None)
        return int(self._get("/memories/count", params)["count"])

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        if self.is_plain_memtrace:
            return sorted(MEMTRACE_MEMORY_TYPES)
        data = self._get("/memory-types", {"agent_id": agent_id, "session_id": session_id})
        return [str(t) for t in data.get("memory_types") or []]

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        self._require(Capability.MEMORY_EDIT)
        body = _drop_none(asdict(patch))
        if "tags" in body:
            body["tags"] = _check_tags(body["tags"])
        _check_json("metadata", body.get("metadata"))
        data = self._send("PATCH", f"/memories/{_segment(memory_id)}", json=body)
        return self._memory_from_json(data)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        self._require(Capability.MEMORY_EDIT)
        deleted = 0
        for memory_id in dict.fromkeys(memory_ids):  # each once, in order
            try:
                self._send("DELETE", f"/memories/{_segment(memory_id)}")
            except NotFoundError:
                continue
            deleted += 1
        return deleted

    # --- plain Memtrace memory paging ----------------------------------------------------

    def _plain_scan(self, query: MemoryQuery, *, offset: int) -> Iterator[tuple[int, Memory]]:
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
                if _matches_locally(memory, query):
                    yield position, memory
                position += 1
            if not rows or not data.get("has_more", len(rows) >= _PLAIN_PAGE):
                return

    def _plain_list_memories(self, query: MemoryQuery) -> MemoryPage:
        offset = query.offset
        if query.after is not None:
            if not query.after.id.startswith(OFFSET_CURSOR_PREFIX):
                raise InvalidInputError(
                    f"invalid cursor {query.after.encode()!r} for a plain Memtrace server",
                    field="after",
                )
            offset = int(query.after.id[len(OFFSET_CURSOR_PREFIX) :])
        found: list[tuple[int, Memory]] = []
        for position, memory in self._plain_scan(query, offset=offset):
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

    # --- working memory ------------------------------------------------------------------

    def _wm_path(self, session_id: str, key: str | None = None) -> str:
        path = f"/sessions/{_segment(session_id)}/working-memory"
        return path if key is None else f"{path}/{_segment(key)}"

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        self._require(Capability.WORKING_MEMORY)
        data = self._get(self._wm_path(session_id))
        items = [_wm_item(i, session_id) for i in data.get("items") or []]
        return sorted(items, key=lambda i: i.key)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        self._require(Capability.WORKING_MEMORY)
        return _wm_item(self._get(self._wm_path(session_id, key)), session_id)

    def set_working_memory(
        self,
        session_id: str,
        key: str,
        value: Any,
        *,
        importance: float | None = None,
        expected_version: int | None = None,
    ) -> WorkingMemoryItem:
        self._require(Capability.WORKING_MEMORY)
        body = {"value": _check_json("value", value)}
        if importance is not None:
            body["importance"] = importance
        if expected_version is not None:
            body["expected_version"] = expected_version
        # A PUT with an expected version is safe to repeat: a second application would
        # be refused as stale rather than applied twice.
        with _own_session(session_id):
            data = self._send("PUT", self._wm_path(session_id, key), json=body)
        return _wm_item(data, session_id)

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        self._require(Capability.WORKING_MEMORY)
        body = _drop_none({"new_key": new_key, "expected_version": expected_version})
        with _own_session(session_id):
            data = self._send("POST", self._wm_path(session_id, key) + "/rename", json=body)
        return _wm_item(data, session_id)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        self._require(Capability.WORKING_MEMORY)
        params = {"expected_version": expected_version}
        with _own_session(session_id):
            self._send("DELETE", self._wm_path(session_id, key), params=params)

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        self._require(Capability.COMMIT)
        body = {"min_importance": min_importance, "deduplicate": deduplicate}
        data = self._send("POST", f"/sessions/{_segment(session_id)}/commit", json=body)
        return CommitResult.from_json(data)

    # --- snapshots -----------------------------------------------------------------------

    def create_snapshot(self, session_id: str, snapshot: NewSnapshot) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        data = self._send(
            "POST", f"/sessions/{_segment(session_id)}/snapshots", json=asdict(snapshot)
        )
        return _snapshot(data, session_id)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        self._require(Capability.SNAPSHOTS)
        data = self._get(f"/sessions/{_segment(session_id)}/snapshots")
        return [_snapshot(s, session_id) for s in data.get("snapshots") or []]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        return _snapshot(self._get(f"/snapshots/{_segment(snapshot_id)}"))

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        return _snapshot(self._get("/snapshots/latest", {"agent_id": agent_id}))

    # --- briefing and context ------------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        self._require(Capability.BRIEFING)
        params = {"agent_id": agent_id, "lookback": f"{round(lookback.total_seconds())}s"}
        return Briefing.from_json(self._get("/briefing", params))

    def build_context(self, session_id: str, request: ContextRequest) -> ContextResult:
        plain = self.is_plain_memtrace
        body: dict[str, Any] = {
            "since": request.since,
            "until": request.until,
            "include_types": list(request.include_types),
            "exclude_types": list(request.exclude_types),
            "max_tokens": request.max_tokens,
            "order": request.order,
        }
        if not plain:
            body["encoding"] = request.encoding
        body = _drop_none(body)
        # Building context changes nothing: safe to retry like a GET.
        data = self._transport.request(
            "POST", f"/sessions/{_segment(session_id)}/context", json=body, idempotent=True
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

    # --- change feed ---------------------------------------------------------------------

    def latest_change_id(self) -> int:
        self._require(Capability.EVENTS)
        data = self._get("/changes", {"after": 0, "limit": 1})
        latest = int(data.get("latest_id") or 0)
        self._ensure_follower(latest)
        return latest

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        """Served from the event stream's buffer when it covers `cursor`, else from
        GET /changes (first call, after a reconnect gap, or right after this client
        wrote something, so a caller always reads its own writes)."""
        self._require(Capability.EVENTS)
        follower = self._ensure_follower(cursor)
        with self._lock:
            wrote, self._wrote = self._wrote, False
        if not wrote and follower.covers(cursor):
            return follower.since(cursor, limit)
        try:
            data = self._get("/changes", {"after": cursor, "limit": limit})
        except MemtuiError:
            if wrote:
                self._wrote = True
            raise
        return [Change.from_json(c) for c in data.get("changes") or []]

    @property
    def event_follower(self) -> EventFollower | None:
        """The background reader of the event stream, once started (for tests)."""
        return self._follower

    def _ensure_follower(self, start_after: int) -> EventFollower:
        with self._lock:
            if self._follower is None:
                self._follower = EventFollower(
                    base_url=self.base_url,
                    path="/api/v1/events",
                    headers=self._transport.auth_headers(),
                    start_after=start_after,
                    on_status=self._on_stream_status,
                    describe_failure=self._describe_stream_failure,
                )
                if not self._closed:
                    self._follower.start()
            return self._follower

    def _on_stream_status(self, connected: bool, reason: str) -> None:
        if connected:
            self._transport.set_state(ConnectionStatus.CONNECTED)
        elif self._transport.state.status != ConnectionStatus.DISCONNECTED:
            self._transport.set_state(ConnectionStatus.RECONNECTING, reason)

    def _describe_stream_failure(self, exc: Exception) -> str:
        if isinstance(exc, _StreamRefused):
            if exc.status == 401:
                return (
                    f"the server rejected the API key ({exc.text}) — check --api-key or "
                    "MEMTUI_API_KEY"
                )
            return f"the event stream was refused: HTTP {exc.status}: {exc.text}"
        if isinstance(exc, httpx.TimeoutException):
            return f"the event stream from {self.base_url} went silent"
        if isinstance(exc, httpx.HTTPError):
            return f"cannot reach the memtui server at {self.base_url}: " + (
                describe_connect_error(exc)
            )
        return f"the event stream from {self.base_url} broke: {type(exc).__name__}"


# --- wire helpers ----------------------------------------------------------------------


def _memory_params(query: MemoryQuery) -> dict[str, Any]:
    return _drop_none(
        {
            "agent_id": query.agent_id,
            "session_id": query.session_id,
            "memory_type": ",".join(query.memory_types) or None,
            "exclude_types": ",".join(query.exclude_types) or None,
            "event_type": ",".join(query.event_types) or None,
            "tags": ",".join(query.tags) or None,
            "content_contains": query.content_contains,
            "min_importance": query.min_importance,
            "since": dt_to_json(query.since),
            "until": dt_to_json(query.until),
            "order": query.order,
            "limit": query.limit,
            "after": query.after.encode() if query.after is not None else None,
            "offset": query.offset or None,
        }
    )


def _matches_locally(memory: Memory, query: MemoryQuery) -> bool:
    """The filters a plain Memtrace server cannot apply itself."""
    if len(query.memory_types) > 1 and memory.memory_type not in query.memory_types:
        return False
    if len(query.event_types) > 1 and memory.event_type not in query.event_types:
        return False
    if query.exclude_types and memory.memory_type in query.exclude_types:
        return False
    if query.content_contains and query.content_contains.lower() not in memory.content.lower():
        return False
    return not (
        query.min_importance is not None
        and (memory.importance is None or memory.importance < query.min_importance)
    )


def _new_memory_json(memory: NewMemory, *, plain: bool, index: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agent_id": memory.agent_id,
        "content": memory.content,
        "memory_type": memory.memory_type,
        "event_type": memory.event_type,
        "session_id": memory.session_id,
        "tags": _check_tags(memory.tags, index=index),
        "importance": memory.importance,
        "metadata": _check_json("metadata", dict(memory.metadata or {}), index=index),
        "parent_id": memory.parent_id,
        "dedup_key": memory.dedup_key,
        "time": dt_to_json(memory.time),
    }
    if not plain:
        data["id"] = memory.id
    return _drop_none(data)


def _wm_item(data: dict[str, Any], session_id: str) -> WorkingMemoryItem:
    return WorkingMemoryItem.from_json({"session_id": session_id, **data})


def _snapshot(data: dict[str, Any], session_id: str | None = None) -> Snapshot:
    if session_id is not None:
        data = {"session_id": session_id, **data}
    return Snapshot.from_json(data)


class _own_session:  # noqa: N801 - used as a context manager, reads like one
    """Fill in the session id of the item a VersionConflictError carries (the 409 body
    has the item without it)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        if (
            isinstance(exc, VersionConflictError)
            and exc.current is not None
            and not exc.current.session_id
        ):
            exc.current = replace(exc.current, session_id=self.session_id)
