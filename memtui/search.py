"""Memory search for every front end (`memtui search`, the MCP tool `memory_recall`).

One thin call, kept in one place so that the CLI and the MCP server switch together when
the Backend gains ranked full-text search: today the best the Backend offers is a
case-insensitive substring match on content, newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import MemoryPage, MemoryQuery

if TYPE_CHECKING:
    from memtui.backend import Backend

# How the results are ordered, for front ends to say so.
SEARCH_METHOD = "substring match on content, newest first"


def search_memories(
    backend: Backend,
    query: str,
    *,
    agent_id: str | None = None,
    session_id: str | None = None,
    limit: int = 10,
) -> MemoryPage:
    """Memories whose content contains `query` (case-insensitive), newest first."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty string", field="query", value=query)
    return backend.list_memories(
        MemoryQuery(
            agent_id=agent_id,
            session_id=session_id,
            content_contains=query.strip(),
            limit=limit,
        )
    )
