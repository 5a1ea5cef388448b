"""Agents: register, list, get, their memories and stats, delete (Memtrace v1), and
get-or-register (memtui)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from memtui.server import schemas as s
from memtui.server.routes.common import (
    CONFLICT,
    NOT_FOUND,
    IdPath,
    MemoryFiltersParam,
    MemoryPagingParam,
    ServerContext,
    memory_page_json,
    no_content,
    ok,
)


def memtrace_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.post(
        "/agents",
        status_code=201,
        response_model=s.AgentOut,
        responses={**CONFLICT},
        summary="Register an agent (409 if the name exists)",
    )
    def create_agent(body: s.AgentIn) -> Any:
        agent = backend.create_agent(
            body.name, description=body.description or "", config=body.config or {}
        )
        return ok(agent.to_json(), 201)

    @router.put(
        "/agents/{agent_id}",
        response_model=s.AgentOut,
        summary="memtui: get an agent by id or name, registering it (name = id) if new",
        tags=["memtui extensions"],
    )
    def ensure_agent(
        agent_id: Annotated[str, Path(min_length=1, max_length=200, pattern=s.NOT_BLANK)],
    ) -> Any:
        return ok(backend.ensure_agent(agent_id).to_json())

    @router.get("/agents", response_model=s.AgentListOut, summary="List agents")
    def list_agents() -> Any:
        agents = [a.to_json() for a in backend.list_agents()]
        return ok({"agents": agents, "count": len(agents), "has_more": False})

    @router.get(
        "/agents/{agent_id}",
        response_model=s.AgentOut,
        responses={**NOT_FOUND},
        summary="Get an agent by id or name",
    )
    def get_agent(agent_id: IdPath) -> Any:
        return ok(backend.get_agent(agent_id).to_json())

    @router.get(
        "/agents/{agent_id}/memories",
        response_model=s.MemoryListOut,
        summary="An agent's recent memories (since defaults to 24h)",
    )
    def agent_memories(
        agent_id: IdPath, filters: MemoryFiltersParam, paging: MemoryPagingParam
    ) -> Any:
        query = filters.query(ctx, agent_id=agent_id, paging=paging, since_default="24h")
        return ok(memory_page_json(backend.list_memories(query)))

    @router.get(
        "/agents/{agent_id}/stats",
        response_model=s.AgentStatsOut,
        responses={**NOT_FOUND},
        summary="Memory statistics for an agent",
    )
    def agent_stats(agent_id: IdPath) -> Any:
        return ok(backend.agent_stats(agent_id).to_json())

    @router.delete(
        "/agents/{agent_id}",
        status_code=204,
        response_class=Response,
        response_model=None,
        responses={**NOT_FOUND},
        summary="Delete an agent",
    )
    def delete_agent(agent_id: IdPath) -> Any:
        backend.delete_agent(agent_id)
        return no_content()
