"""Memory search for every front end (`memtui search`, the MCP tool `memory_recall`).

One thin call, kept in one place so that the CLI and the MCP server search alike:
`Backend.search_memories`, a case-insensitive substring match on content, ranked best
match first where the backend has a text index (the SQL store: bm25 on SQLite, trigram
similarity on PostgreSQL), else newest first; `Backend.search_method()` says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import MemoryPage, MemoryQuery

if TYPE_CHECKING:
    from memtui.backend import Backend


def search_memories(
    backend: Backend,
    query: str,
    *,
    agent_id: str | None = None,
    session_id: str | None = None,
    limit: int = 10,
) -> MemoryPage:
    """Memories whose content contains `query` (case-insensitive), in the backend's
    search order (`backend.search_method()`)."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty string", field="query", value=query)
    return backend.search_memories(
        MemoryQuery(
            agent_id=agent_id,
            session_id=session_id,
            content_contains=query.strip(),
            limit=limit,
        )
    )
