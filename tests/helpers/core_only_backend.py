"""A backend that implements only what BackendBase asks of an adapter, by forwarding
to a SqlStore, and takes everything else from BackendBase: close_session,
commit_working_memory (with deduplication), briefing, close. The contract suite runs
on it as the `base` kind, so the built-in operations are held to the same contract as
the SQL store's own.

ensure_agent is forwarded too: the contract registers an unknown agent under the
given id, which the protocol's create_agent (it chooses ids) cannot do; BackendBase's
get-or-create (a plain Memtrace server's way) is tested in tests/backend."""

from __future__ import annotations

import abc
from typing import Any

from memtui.backend import BackendBase
from memtui.domain.models import ALL_CAPABILITIES
from memtui.store import SqlStore

# Core methods and the optional capabilities a SQL store has; NOT the operations
# BackendBase builds (close_session, commit_working_memory, briefing).
FORWARDED = (
    "describe",
    "ensure_agent",
    "create_agent",
    "list_agents",
    "get_agent",
    "delete_agent",
    "agent_stats",
    "create_session",
    "list_sessions",
    "get_session",
    "update_session",
    "extend_session",
    "delete_session",
    "add_memories",
    "get_memory",
    "list_memories",
    "count_memories",
    "list_memory_types",
    "update_memory",
    "delete_memories",
    "list_working_memory",
    "get_working_memory",
    "set_working_memory",
    "rename_working_memory",
    "delete_working_memory",
    "create_snapshot",
    "list_snapshots",
    "get_snapshot",
    "latest_snapshot",
    "build_context",
    "latest_change_id",
    "changes_since",
    "history",
    "memories_as_of",
    "list_trash",
    "restore_from_trash",
    "purge_trash",
)


class CoreOnlyBackend(BackendBase):
    def __init__(self, store: SqlStore) -> None:
        super().__init__(clock=store.now)
        self.store = store

    def capabilities(self) -> frozenset[str]:
        return ALL_CAPABILITIES

    def _release(self) -> None:
        self.store.close()


def _forward(name: str) -> Any:
    def method(self: CoreOnlyBackend, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.store, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in FORWARDED:
    setattr(CoreOnlyBackend, _name, _forward(_name))
abc.update_abstractmethods(CoreOnlyBackend)
