"""AINative ZeroMemory's session memory (seed 003) under
/api/v1/public/memory/v2/session: save a snapshot, read the latest, read a session's.

A save is a memtui snapshot; a save naming an unknown session creates that session
(never expiring, as ZeroMemory's sessions do not) for the agent `zeromemory`, or the
body's `agent_id`. Errors are memtui's `{"error": ...}` (ZeroMemory documents none).
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter

from memtui.backend import Backend
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.models import NewSnapshot, Snapshot
from memtui.server.dialects.zeromemory import schemas as z
from memtui.server.routes.common import NOT_FOUND, SessionIdPath, ok

DEFAULT_AGENT = "zeromemory"


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "session_id": snapshot.session_id,
        "session_data": {
            "project_path": snapshot.project_path,
            "files_modified": list(snapshot.files_modified),
            "key_decisions": list(snapshot.key_decisions),
            "open_tasks": list(snapshot.open_tasks),
            "event": snapshot.event,
        },
        "created_at": snapshot.to_json()["created_at"],
        "snapshot_id": snapshot.id,
        "agent_id": snapshot.agent_id,
    }


def _ensure_session(backend: Backend, session_id: str, agent_id: str) -> None:
    try:
        backend.get_session(session_id)
        return
    except NotFoundError:
        pass
    with contextlib.suppress(ConflictError):  # another save created it a moment ago
        backend.create_session(agent_id, session_id=session_id, ttl=None)


def router(backend: Backend) -> APIRouter:
    api = APIRouter()

    @api.post(
        "",
        status_code=201,
        response_model=z.SessionSnapshotOut,
        summary="Store a session snapshot (an unknown session_id creates the session)",
    )
    def save(body: z.SessionSnapshotIn) -> Any:
        _ensure_session(backend, body.session_id, body.agent_id or DEFAULT_AGENT)
        snapshot = backend.create_snapshot(
            body.session_id,
            NewSnapshot(
                event=body.event,
                project_path=body.project_path,
                files_modified=list(body.files_modified),
                key_decisions=list(body.key_decisions),
                open_tasks=list(body.open_tasks),
            ),
        )
        return ok(snapshot_json(snapshot), 201)

    # The base path with a trailing slash is the same route (a client joining paths
    # may add one), not a redirect a POST would have to follow.
    api.add_api_route("/", save, methods=["POST"], status_code=201, include_in_schema=False)

    @api.get(
        "/latest",
        response_model=z.SessionSnapshotOut,
        responses={**NOT_FOUND},
        summary="The newest snapshot of any session",
    )
    def latest() -> Any:
        try:
            return ok(snapshot_json(backend.latest_snapshot()))
        except NotFoundError:
            raise NotFoundError("no session snapshot has been stored yet") from None

    @api.get(
        "/{session_id}",
        response_model=z.SessionSnapshotOut,
        responses={**NOT_FOUND},
        summary="The newest snapshot of one session",
    )
    def by_session(session_id: SessionIdPath) -> Any:
        snapshots = backend.list_snapshots(session_id)  # NotFoundError names the session
        if not snapshots:
            raise NotFoundError(f"session {session_id!r} has no snapshot yet")
        return ok(snapshot_json(snapshots[0]))

    return api
