"""`MemoryLayerApi`: the routes of `memorylayer-server` 0.2.0 that memtui uses, as
plain calls over memtui's `Transport` (retries, fault messages, connection state).

It speaks the server's own JSON and returns it decoded; `mapping` turns it into
memtui's models. Scope is by header: a request about a workspace carries
`X-Workspace-ID` (the open-source build has no auth; a key, if given, goes out as a
Bearer token, set on the Transport).
"""

from __future__ import annotations

from typing import Any

from memtui.remote.transport import Transport
from memtui.remote.wire import drop_none, segment

WORKSPACE_HEADER = "X-Workspace-ID"
SESSION_HEADER = "X-Session-ID"
MAX_LIST_LIMIT = 200  # what GET /v1/memories accepts in one page (201 is a 422)


def _scope(workspace_id: str | None, session_id: str | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if workspace_id:
        headers[WORKSPACE_HEADER] = workspace_id
    if session_id:
        headers[SESSION_HEADER] = session_id
    return headers


class MemoryLayerApi:
    """Thread-safe (the Transport is). Paths are the server's own (`/v1/...`)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _get(
        self, path: str, params: dict[str, Any] | None = None, *, workspace: str | None = None
    ) -> Any:
        return self.transport.request(
            "GET", path, params=params, api=False, headers=_scope(workspace)
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        workspace: str | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        return self.transport.request(
            method,
            path,
            json=json,
            params=params,
            api=False,
            headers=_scope(workspace),
            idempotent=idempotent,
        )

    # --- the server ----------------------------------------------------------------------

    def health(self) -> Any:
        return self._get("/health")

    def openapi(self) -> Any:
        return self._get("/openapi.json")

    # --- workspaces ----------------------------------------------------------------------

    def list_workspaces(self) -> list[dict[str, Any]]:
        data = self._get("/v1/workspaces")
        rows = data.get("workspaces") if isinstance(data, dict) else data
        return [w for w in rows or [] if isinstance(w, dict)]

    def get_workspace(self, workspace_id: str) -> dict[str, Any]:
        data = self._get(f"/v1/workspaces/{segment(workspace_id)}", workspace=workspace_id)
        return data.get("workspace", data) if isinstance(data, dict) else {}

    def create_workspace(
        self, workspace_id: str, name: str, settings: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"id": workspace_id, "name": name, "settings": settings}
        data = self._send("POST", "/v1/workspaces", json=body)
        return data.get("workspace", data) if isinstance(data, dict) else {}

    def delete_workspace(self, workspace_id: str) -> None:
        self._send("DELETE", f"/v1/workspaces/{segment(workspace_id)}", workspace=workspace_id)

    # --- sessions ------------------------------------------------------------------------

    def list_sessions(self, workspace_id: str) -> list[dict[str, Any]]:
        data = self._get(
            "/v1/sessions",
            {"workspace_id": workspace_id, "include_expired": "true"},
            workspace=workspace_id,
        )
        return list(data.get("sessions") or [])

    def get_session(self, session_id: str) -> dict[str, Any]:
        return dict(self._get(f"/v1/sessions/{segment(session_id)}")["session"])

    def create_session(self, body: dict[str, Any], workspace_id: str | None) -> dict[str, Any]:
        data = self._send("POST", "/v1/sessions", json=drop_none(body), workspace=workspace_id)
        return dict(data["session"])

    def delete_session(self, session_id: str) -> None:
        self._send("DELETE", f"/v1/sessions/{segment(session_id)}")

    def touch_session(self, session_id: str, extend_seconds: int) -> Any:
        """SETS the expiry to now + extend_seconds (it can shorten a session)."""
        return self._send(
            "POST",
            f"/v1/sessions/{segment(session_id)}/touch",
            params={"extend_seconds": extend_seconds},
            idempotent=True,  # setting an absolute-from-now expiry twice is harmless
        )

    def briefing(self, workspace_id: str | None, lookback_minutes: int, limit: int) -> Any:
        return self._get(
            "/v1/sessions/briefing",
            {
                "workspace_id": workspace_id,
                "lookback_minutes": lookback_minutes,
                "limit": limit,
                "detail_level": "full",
            },
            workspace=workspace_id,
        )

    def context_pack(self, session_id: str, budget_tokens: int, workspace_id: str | None) -> Any:
        return self._send(
            "POST",
            f"/v1/sessions/{segment(session_id)}/context-pack",
            json={"budget_tokens": budget_tokens},
            workspace=workspace_id,
            idempotent=True,  # reads only
        )

    def context_delta(self, session_id: str, cursor: str, workspace_id: str | None) -> Any:
        return self._send(
            "POST",
            f"/v1/sessions/{segment(session_id)}/context-delta",
            json={"cursor": cursor},
            workspace=workspace_id,
            idempotent=True,
        )

    # --- working memory ------------------------------------------------------------------

    def get_working_memory(self, session_id: str, key: str | None = None) -> dict[str, Any]:
        data = self._get(f"/v1/sessions/{segment(session_id)}/memory", {"key": key})
        return dict(data) if isinstance(data, dict) else {}

    def set_working_memory(self, session_id: str, key: str, value: Any) -> dict[str, Any]:
        return dict(
            self._send(
                "POST",
                f"/v1/sessions/{segment(session_id)}/memory",
                json={"key": key, "value": value},
                idempotent=True,  # the same key and value twice leave the same state
            )
        )

    # --- memories ------------------------------------------------------------------------

    def list_memories(
        self,
        workspace_id: str,
        *,
        limit: int,
        offset: int,
        memory_type: str | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        return dict(
            self._get(
                "/v1/memories",
                {"limit": limit, "offset": offset, "type": memory_type, "tag": tag},
                workspace=workspace_id,
            )
        )

    def get_memory(self, memory_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        data = self._get(
            f"/v1/memories/{segment(memory_id)}",
            {"workspace_id": workspace_id},
            workspace=workspace_id,
        )
        return dict(data["memory"])

    def create_memory(self, body: dict[str, Any], workspace_id: str) -> dict[str, Any]:
        data = self._send("POST", "/v1/memories", json=body, workspace=workspace_id)
        return dict(data["memory"])

    def update_memory(
        self, memory_id: str, body: dict[str, Any], workspace_id: str | None
    ) -> dict[str, Any]:
        data = self._send(
            "PUT", f"/v1/memories/{segment(memory_id)}", json=body, workspace=workspace_id
        )
        return dict(data["memory"])

    def delete_memory(self, memory_id: str, workspace_id: str | None) -> None:
        self._send("DELETE", f"/v1/memories/{segment(memory_id)}", workspace=workspace_id)
