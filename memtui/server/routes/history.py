"""History (memtui): GET /history, the revisions of one memory, session,
working-memory key or snapshot. Behind the same API-key guard as every route: a revoked
key reads nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

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
