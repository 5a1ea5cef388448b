"""A MemoryLayer workspace's memories as memtui lists them: read in the server's offset
pages, filtered and ordered here, paged by keyset or offset.

MemoryLayer 0.2.0 cannot count (`total_count` is the page's row count) and applies its
`type` filter after `limit`/`offset` (a page of 200 with `type=semantic` holds only the
semantic rows of those 200), so a filtered page cannot tell where the list ends. memtui
therefore reads the whole (tag-filtered) list, keeps it for LIST_TTL so the pages and the
count a timeline asks for at once are served from one read, and applies the rest of the
filter grammar itself.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from memtui.domain.models import Memory, MemoryCursor, MemoryPage, MemoryQuery, Order
from memtui.remote.memorylayer.api import MAX_LIST_LIMIT, MemoryLayerApi
from memtui.remote.memorylayer.mapping import memory_from_wire
from memtui.remote.wire import matches_locally

LIST_TTL = 1.0  # seconds a read list serves further pages and counts
_CACHED_LISTS = 16


class MemoryLists:
    """Thread-safe. `forget()` after a write, so the writer reads its own writes."""

    def __init__(self, api: MemoryLayerApi, now: Callable[[], datetime]) -> None:
        self.api = api
        self.now = now
        self._lock = threading.Lock()
        self._lists: dict[tuple[Any, ...], tuple[float, list[Memory]]] = {}

    def walk(self, workspace: str, *, tag: str | None = None) -> Iterator[Memory]:
        """Every memory of a workspace (with `tag`), newest first, in offset pages."""
        position = 0
        now = self.now()
        while True:
            data = self.api.list_memories(workspace, limit=MAX_LIST_LIMIT, offset=position, tag=tag)
            rows = data.get("memories") or []
            for row in rows:
                yield memory_from_wire(row, now)
            position += len(rows)
            if len(rows) < MAX_LIST_LIMIT:  # no total to compare with: a short page ends
                return

    def ordered(self, query: MemoryQuery, scope: Callable[[], list[str]]) -> list[Memory]:
        """The memories of the workspaces `scope()` names that match `query`'s filters,
        oldest first by (time, id); read again after LIST_TTL."""
        key = filter_key(query)
        with self._lock:
            cached = self._lists.get(key)
            if cached is not None and time.monotonic() - cached[0] < LIST_TTL:
                return cached[1]
        server_tag = query.tags[0] if query.tags else None  # the one filter it pages right
        rows = [
            memory
            for workspace in scope()
            for memory in self.walk(workspace, tag=server_tag)
            if matches(memory, query)
        ]
        rows.sort(key=lambda m: (m.time, m.id))
        with self._lock:
            # Stamped when read: the next pages (asked right after) are served from it.
            self._lists[key] = (time.monotonic(), rows)
            while len(self._lists) > _CACHED_LISTS:
                self._lists.pop(next(iter(self._lists)))
        return rows

    def forget(self) -> None:
        with self._lock:
            self._lists.clear()


def page_of(rows: list[Memory], query: MemoryQuery) -> MemoryPage:
    """One page of `rows` (oldest first): keyset (`after`, the (time, id) of the last
    row seen) in either order, or `offset`."""
    keys = [(m.time, m.id) for m in rows]
    ascending = query.order == Order.ASC
    if query.after is not None:
        cursor = (query.after.time, query.after.id)
        start = (
            bisect.bisect_right(keys, cursor)
            if ascending
            else len(rows) - bisect.bisect_left(keys, cursor)
        )
    else:
        start = query.offset
    ordered = rows if ascending else rows[::-1]
    page = ordered[start : start + query.limit]
    has_more = start + query.limit < len(ordered)
    next_cursor = MemoryCursor(page[-1].time, page[-1].id) if has_more and page else None
    return MemoryPage(page, has_more=has_more, next_cursor=next_cursor)


def filter_key(query: MemoryQuery) -> tuple[Any, ...]:
    """What a read list is kept by: the filters, not the paging."""
    return (
        query.agent_id,
        query.session_id,
        query.memory_types,
        query.exclude_types,
        query.event_types,
        query.tags,
        query.content_contains,
        query.min_importance,
        query.since,
        query.until,
    )


def matches(memory: Memory, query: MemoryQuery) -> bool:
    """memtui's filters, applied here (the server's tag filter is only the first tag)."""
    if query.memory_types and memory.memory_type not in query.memory_types:
        return False
    if query.event_types and memory.event_type not in query.event_types:
        return False
    if query.tags and not set(query.tags) <= set(memory.tags):
        return False
    if query.since is not None and memory.time < query.since:
        return False
    if query.until is not None and memory.time > query.until:
        return False
    return matches_locally(memory, query)
