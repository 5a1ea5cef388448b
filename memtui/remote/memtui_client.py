"""`MemtuiClient`: the Backend over a `memtui serve` server: Memtrace v1 (inherited
from MemtraceClient) plus memtui's extensions: ids, keyset paging, expiry, working
memory, commit, snapshots, briefing, memory edit, the change feed and its event stream.
The server lists what it offers in GET /health's `features`; anything it leaves out is
refused with UnsupportedError naming the capability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from memtui.backend.base import CAPABILITY_TEXT
from memtui.domain.errors import MemtuiError, NotFoundError
from memtui.domain.models import (
    DEFAULT_EXTEND,
    DEFAULT_SESSION_TTL,
    Agent,
    Briefing,
    Capability,
    Change,
    CommitResult,
    ContextRequest,
    Memory,
    MemoryCursor,
    MemoryPage,
    MemoryPatch,
    MemoryQuery,
    NewSnapshot,
    Session,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.transfer import ImportOutcome, Record, export_record
from memtui.remote.events import EventFollower, StreamRefused
from memtui.remote.memtrace_client import MemtraceClient
from memtui.remote.transport import ConnectionStatus, describe_connect_error
from memtui.remote.wire import (
    check_json,
    check_tags,
    drop_none,
    memory_params,
    own_session,
    segment,
    snapshot_from_json,
    wm_item_from_json,
)

MAX_PAGE = 1000  # the most rows the server returns per page


if TYPE_CHECKING:
    from memtui.domain.context.explain import ContextExplanation
    from memtui.domain.history import HistoryTarget, Revision, TrashItem


class MemtuiClient(MemtraceClient):
    """memtui's own server. Thread-safe."""

    sends_memory_ids = True
    sends_encoding = True

    _follower: EventFollower | None = None

    def _unsupported_message(self, capability: str) -> str:
        what = CAPABILITY_TEXT.get(capability, capability)
        return f"the memtui server at {self.base_url} does not offer {what}"

    def _release(self) -> None:
        follower = self._follower
        if follower is not None:
            follower.stop()

    # --- agents and sessions -------------------------------------------------------------

    def ensure_agent(self, id_or_name: str) -> Agent:
        # PUT /agents/{id} gets or registers in one step (name = id), as the SQL store
        # does; plain Memtrace has no such route.
        return Agent.from_json(self._send("PUT", f"/agents/{segment(id_or_name)}", idempotent=True))

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
            "metadata": check_json("metadata", metadata or {}),
        }
        if workspace_id is not None:
            body["workspace_id"] = workspace_id
        if session_id is not None:
            body["session_id"] = session_id
        body["ttl_seconds"] = None if ttl is None else round(ttl.total_seconds())
        return Session.from_json(self._send("POST", "/sessions", json=body))

    def list_sessions(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        self._check_status(status)
        data = self._get("/sessions", {"agent_id": agent_id, "status": status, "limit": limit})
        return [Session.from_json(s) for s in data.get("sessions") or []]

    def extend_session(self, session_id: str, by: timedelta = DEFAULT_EXTEND) -> Session:
        self._require(Capability.EXPIRY)
        body = {"seconds": round(by.total_seconds())}
        data = self._send("POST", f"/sessions/{segment(session_id)}/extend", json=body)
        return Session.from_json(data)

    def delete_session(self, session_id: str) -> None:
        self._require(Capability.SESSION_DELETE)
        self._send("DELETE", f"/sessions/{segment(session_id)}")

    # --- memories ------------------------------------------------------------------------

    def get_memory(self, memory_id: str) -> Memory:
        self._require(Capability.MEMORY_IDS)
        return self._memory_from_json(self._get(f"/memories/{segment(memory_id)}"))

    def list_memories(self, query: MemoryQuery) -> MemoryPage:
        if query.limit > MAX_PAGE:
            return self._list_memories_in_pages(query)
        data = self._get("/memories", memory_params(query))
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
        params = memory_params(query)
        for paging in ("limit", "offset", "after", "order"):
            params.pop(paging, None)
        return int(self._get("/memories/count", params)["count"])

    def list_memory_types(
        self, *, agent_id: str | None = None, session_id: str | None = None
    ) -> list[str]:
        data = self._get("/memory-types", {"agent_id": agent_id, "session_id": session_id})
        return [str(t) for t in data.get("memory_types") or []]

    def update_memory(self, memory_id: str, patch: MemoryPatch) -> Memory:
        self._require(Capability.MEMORY_EDIT)
        body = drop_none(asdict(patch))
        if "tags" in body:
            body["tags"] = check_tags(body["tags"])
        check_json("metadata", body.get("metadata"))
        data = self._send("PATCH", f"/memories/{segment(memory_id)}", json=body)
        return self._memory_from_json(data)

    def delete_memories(self, memory_ids: Sequence[str]) -> int:
        self._require(Capability.MEMORY_EDIT)
        deleted = 0
        for memory_id in dict.fromkeys(memory_ids):  # each once, in order
            try:
                self._send("DELETE", f"/memories/{segment(memory_id)}")
            except NotFoundError:
                continue
            deleted += 1
        return deleted

    # --- working memory ------------------------------------------------------------------

    def _wm_path(self, session_id: str, key: str | None = None) -> str:
        path = f"/sessions/{segment(session_id)}/working-memory"
        return path if key is None else f"{path}/{segment(key)}"

    def list_working_memory(self, session_id: str) -> list[WorkingMemoryItem]:
        self._require(Capability.WORKING_MEMORY)
        data = self._get(self._wm_path(session_id))
        items = [wm_item_from_json(i, session_id) for i in data.get("items") or []]
        return sorted(items, key=lambda i: i.key)

    def get_working_memory(self, session_id: str, key: str) -> WorkingMemoryItem:
        self._require(Capability.WORKING_MEMORY)
        return wm_item_from_json(self._get(self._wm_path(session_id, key)), session_id)

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
        body = {"value": check_json("value", value)}
        if importance is not None:
            body["importance"] = importance
        if expected_version is not None:
            body["expected_version"] = expected_version
        # A PUT with an expected version is safe to repeat: a second application would
        # be refused as stale rather than applied twice.
        with own_session(session_id):
            data = self._send("PUT", self._wm_path(session_id, key), json=body)
        return wm_item_from_json(data, session_id)

    def rename_working_memory(
        self, session_id: str, key: str, new_key: str, *, expected_version: int | None = None
    ) -> WorkingMemoryItem:
        self._require(Capability.WORKING_MEMORY)
        body = drop_none({"new_key": new_key, "expected_version": expected_version})
        with own_session(session_id):
            data = self._send("POST", self._wm_path(session_id, key) + "/rename", json=body)
        return wm_item_from_json(data, session_id)

    def delete_working_memory(
        self, session_id: str, key: str, *, expected_version: int | None = None
    ) -> None:
        self._require(Capability.WORKING_MEMORY)
        params = {"expected_version": expected_version}
        with own_session(session_id):
            self._send("DELETE", self._wm_path(session_id, key), params=params)

    def commit_working_memory(
        self, session_id: str, *, min_importance: float = 0.5, deduplicate: bool = True
    ) -> CommitResult:
        self._require(Capability.COMMIT)
        body = {"min_importance": min_importance, "deduplicate": deduplicate}
        data = self._send("POST", f"/sessions/{segment(session_id)}/commit", json=body)
        return CommitResult.from_json(data)

    # --- snapshots -----------------------------------------------------------------------

    def create_snapshot(self, session_id: str, snapshot: NewSnapshot) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        data = self._send(
            "POST", f"/sessions/{segment(session_id)}/snapshots", json=asdict(snapshot)
        )
        return snapshot_from_json(data, session_id)

    def list_snapshots(self, session_id: str) -> list[Snapshot]:
        self._require(Capability.SNAPSHOTS)
        data = self._get(f"/sessions/{segment(session_id)}/snapshots")
        return [snapshot_from_json(s, session_id) for s in data.get("snapshots") or []]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        return snapshot_from_json(self._get(f"/snapshots/{segment(snapshot_id)}"))

    def latest_snapshot(self, *, agent_id: str | None = None) -> Snapshot:
        self._require(Capability.SNAPSHOTS)
        return snapshot_from_json(self._get("/snapshots/latest", {"agent_id": agent_id}))

    # --- briefing ------------------------------------------------------------------------

    def briefing(
        self, *, agent_id: str | None = None, lookback: timedelta = timedelta(hours=24)
    ) -> Briefing:
        self._require(Capability.BRIEFING)
        params = {"agent_id": agent_id, "lookback": f"{round(lookback.total_seconds())}s"}
        return Briefing.from_json(self._get("/briefing", params))

    # --- context explanations ------------------------------------------------------------

    def explain_context(self, session_id: str, request: ContextRequest) -> ContextExplanation:
        from memtui.domain.context.explain import ContextExplanation

        self._require(Capability.CONTEXT_EXPLAIN)
        # Explaining changes nothing: safe to retry like a GET.
        data = self._transport.request(
            "POST",
            f"/sessions/{segment(session_id)}/context/explain",
            json=self._context_body(request),
            idempotent=True,
        )
        return ContextExplanation.from_json(data)

    # --- history -----------------------------------------------------------------------

    def history(self, target: HistoryTarget) -> list[Revision]:
        from memtui.domain.history import Entity, Revision

        self._require(Capability.HISTORY)
        target.check()
        if target.entity == Entity.WORKING_MEMORY:
            params = {"session": target.session_id, "key": target.id}
        else:
            params = {target.entity: target.id}
        data = self._get("/history", params)
        return [Revision.from_json(item) for item in data.get("revisions") or []]

    # --- trash -------------------------------------------------------------------------

    def list_trash(self) -> list[TrashItem]:
        from memtui.domain.history import TrashItem

        self._require(Capability.TRASH)
        data = self._get("/trash")
        return [TrashItem.from_json(item) for item in data.get("items") or []]

    def restore_from_trash(self, item_id: int) -> TrashItem:
        from memtui.domain.history import TrashItem

        self._require(Capability.TRASH)
        return TrashItem.from_json(self._send("POST", f"/trash/{int(item_id)}/restore"))

    def purge_trash(self, item_ids: Sequence[int] | None = None) -> int:
        self._require(Capability.TRASH)
        body = {"all": True} if item_ids is None else {"ids": [int(i) for i in item_ids]}
        data = self._send("POST", "/trash/purge", json=body)
        return int(data.get("purged") or 0)

    # --- import -------------------------------------------------------------------------

    def import_records(self, records: Sequence[Record]) -> ImportOutcome:
        """One POST /import per call: the server stores the batch in one transaction.
        Safe to retry: importing the same records again adds nothing."""
        records = list(records)
        if not records:
            return ImportOutcome()
        body = {"records": [export_record(r.obj) for r in records]}
        data = self._send("POST", "/import", json=body, idempotent=True)
        return ImportOutcome(
            added=int(data["added"]),
            unchanged=int(data["unchanged"]),
            conflicts=tuple(records[int(c["index"])] for c in data.get("conflicts") or ()),
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
        if isinstance(exc, StreamRefused):
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
