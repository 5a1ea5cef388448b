"""History and trash (memtui): GET /history, the revisions of one memory, session,
working-memory key or snapshot; GET /trash, restoring and purging. Behind the same
API-key guard as every route: a revoked key reads nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from memtui.domain.errors import InvalidInputError
from memtui.domain.history import HistoryTarget
from memtui.server import schemas as s
from memtui.server.routes.common import ServerContext, ok

_TEXT = Query(min_length=1, max_length=700)


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.get(
        "/history",
        response_model=s.HistoryOut,
        summary="The revisions of a memory, a session, a working-memory key or a snapshot",
    )
    def history(
        memory: Annotated[str | None, _TEXT] = None,
        session: Annotated[str | None, _TEXT] = None,
        key: Annotated[str | None, _TEXT] = None,
        snapshot: Annotated[str | None, _TEXT] = None,
    ) -> Any:
        target = _target(memory, session, key, snapshot)
        revisions = backend.history(target)
        return ok({"revisions": [r.to_json() for r in revisions], "count": len(revisions)})

    return router


def _target(
    memory: str | None, session: str | None, key: str | None, snapshot: str | None
) -> HistoryTarget:
    if key is not None:
        if session is None or memory is not None or snapshot is not None:
            raise InvalidInputError(
                "a key's history needs session and key (and nothing else)", field="key"
            )
        return HistoryTarget.key(session, key)
    given = [
        (name, value)
        for name, value in (("memory", memory), ("session", session), ("snapshot", snapshot))
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidInputError(
            "give exactly one of memory, session (with key for a working-memory key) or snapshot",
            field="memory",
        )
    name, value = given[0]
    return {
        "memory": HistoryTarget.memory,
        "session": HistoryTarget.session,
        "snapshot": HistoryTarget.snapshot,
    }[name](value)


def trash_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.get("/trash", response_model=s.TrashListOut, summary="Deleted things, newest first")
    def list_trash() -> Any:
        items = backend.list_trash()
        return ok({"items": [item.to_json() for item in items], "count": len(items)})

    @router.post(
        "/trash/purge",
        response_model=s.TrashPurgeOut,
        summary="Delete trash items for good, with their history",
    )
    def purge_trash(body: s.TrashPurgeIn) -> Any:
        if body.all == (body.ids is not None):
            raise InvalidInputError('give either "ids" or "all": true', field="ids")
        return ok({"purged": backend.purge_trash(None if body.all else body.ids)})

    @router.post(
        "/trash/{item_id}/restore",
        response_model=s.TrashItemOut,
        responses={
            404: {"model": s.ErrorBody, "description": "no such trash item"},
            409: {
                "model": s.ErrorBody,
                "description": "its id or key is taken again, or its agent was deleted",
            },
        },
        summary="Put a deleted memory, session or key back as it was",
    )
    def restore(item_id: Annotated[int, Path(ge=1, le=s.MAX_VERSION)]) -> Any:
        return ok(backend.restore_from_trash(item_id).to_json())
