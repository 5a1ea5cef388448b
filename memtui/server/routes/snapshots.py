"""Snapshots and the briefing (memtui)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from memtui.domain.models import (
    NewSnapshot,
)
from memtui.server import schemas as s
from memtui.server.params import parse_duration
from memtui.server.routes.common import (
    NOT_FOUND,
    IdPath,
    ServerContext,
    SessionIdPath,
    ok,
)


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.post(
        "/sessions/{session_id}/snapshots",
        status_code=201,
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="Save a snapshot (pre_compact, session_end or checkpoint)",
    )
    def create_snapshot(session_id: SessionIdPath, body: s.SnapshotIn) -> Any:
        snapshot = backend.create_snapshot(
            session_id,
            NewSnapshot(
                event=body.event,
                project_path=body.project_path,
                files_modified=list(body.files_modified),
                key_decisions=list(body.key_decisions),
                open_tasks=list(body.open_tasks),
            ),
        )
        return ok(snapshot.to_json(), 201)

    @router.get(
        "/sessions/{session_id}/snapshots",
        response_model=s.SnapshotListOut,
        responses={**NOT_FOUND},
        summary="A session's snapshots, newest first",
    )
    def list_snapshots(session_id: SessionIdPath) -> Any:
        snapshots = [x.to_json() for x in backend.list_snapshots(session_id)]
        return ok({"snapshots": snapshots, "count": len(snapshots)})

    @router.get(
        "/snapshots/latest",
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="The newest snapshot (of one agent)",
    )
    def latest_snapshot(agent_id: str | None = None) -> Any:
        return ok(backend.latest_snapshot(agent_id=agent_id or None).to_json())

    @router.get(
        "/snapshots/{snapshot_id}",
        response_model=s.SnapshotOut,
        responses={**NOT_FOUND},
        summary="One snapshot",
    )
    def get_snapshot(snapshot_id: IdPath) -> Any:
        return ok(backend.get_snapshot(snapshot_id).to_json())

    @router.get(
        "/briefing",
        response_model=s.BriefingOut,
        summary="Recent activity, open threads, active and soon-expiring sessions",
    )
    def briefing(
        agent_id: str | None = None,
        lookback: Annotated[str, Query(description="a duration: 30m, 24h, 7d")] = "24h",
    ) -> Any:
        result = backend.briefing(
            agent_id=agent_id or None, lookback=parse_duration("lookback", lookback)
        )
        return ok(result.to_json(ctx.now()))
