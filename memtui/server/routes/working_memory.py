"""Working memory (memtui): list, get, put, rename, delete, and commit to long-term
memory."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError

from memtui.server import schemas as s
from memtui.server.routes.common import (
    NOT_FOUND,
    WM_CONFLICT,
    KeyPath,
    ServerContext,
    SessionIdPath,
    no_content,
    ok,
)


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.get(
        "/sessions/{session_id}/working-memory",
        response_model=s.WorkingMemoryListOut,
        responses={**NOT_FOUND},
        summary="A session's working memory, sorted by key",
    )
    def list_working_memory(session_id: SessionIdPath) -> Any:
        items = [i.to_json() for i in backend.list_working_memory(session_id)]
        return ok({"items": items, "count": len(items)})

    @router.post(
        "/sessions/{session_id}/working-memory/{key:path}/rename",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Rename a key (409 if new_key exists or the version is stale)",
    )
    def rename_working_memory(
        session_id: SessionIdPath, key: KeyPath, body: s.WorkingMemoryRenameIn
    ) -> Any:
        item = backend.rename_working_memory(
            session_id, key, body.new_key, expected_version=body.expected_version
        )
        return ok(item.to_json())

    @router.get(
        "/sessions/{session_id}/working-memory/{key:path}",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND},
        summary="One working-memory item",
    )
    def get_working_memory(session_id: SessionIdPath, key: KeyPath) -> Any:
        return ok(backend.get_working_memory(session_id, key).to_json())

    @router.put(
        "/sessions/{session_id}/working-memory/{key:path}",
        response_model=s.WorkingMemoryItemOut,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Create or update a key (409 if expected_version is stale; 0 = must not exist)",
    )
    def put_working_memory(
        session_id: SessionIdPath, key: KeyPath, body: s.WorkingMemoryPutIn
    ) -> Any:
        if "value" not in body.model_fields_set:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "value"), "msg": "Field required"}]
            )
        item = backend.set_working_memory(
            session_id,
            key,
            body.value,
            importance=body.importance,
            expected_version=body.expected_version,
        )
        return ok(item.to_json())

    @router.delete(
        "/sessions/{session_id}/working-memory/{key:path}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND, **WM_CONFLICT},
        summary="Delete a key (optionally only at expected_version)",
    )
    def delete_working_memory(
        session_id: SessionIdPath,
        key: KeyPath,
        expected_version: Annotated[int | None, Query(ge=0, le=s.MAX_VERSION)] = None,
    ) -> Any:
        backend.delete_working_memory(session_id, key, expected_version=expected_version)
        return no_content()

    @router.post(
        "/sessions/{session_id}/commit",
        response_model=s.CommitOut,
        responses={**NOT_FOUND},
        summary="Turn working memory into long-term memories",
    )
    def commit(session_id: SessionIdPath, body: s.CommitIn | None = None) -> Any:
        body = body or s.CommitIn()
        result = backend.commit_working_memory(
            session_id, min_importance=body.min_importance, deduplicate=body.deduplicate
        )
        return ok(result.to_json())
