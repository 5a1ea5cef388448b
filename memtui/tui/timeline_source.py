"""A random-access view of a (possibly huge) memory timeline over keyset paging.

Row `i` is the i-th memory in chronological order (0 = oldest). Rows live in aligned
pages of `page_size` kept in an LRU cache. A page is fetched by keyset from a cached
neighbour (ascending after the previous page's last row, or descending after the next
page's first row), from either end without a cursor, and only for a jump into the
middle (dragging the scrollbar) by offset. Walking the timeline with the keyboard thus
never scans: each page costs one index range read.

No Textual here: the timeline widget calls `load_pages` from a thread worker and
`peek` from the UI thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from memtui.domain.models import Memory, MemoryCursor, MemoryQuery, Order

if TYPE_CHECKING:
    from memtui.backend import Backend

DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 24  # 2,400 rows at most in memory


class TimelineSource:
    def __init__(
        self,
        query: MemoryQuery,
        total: int,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        provisional: bool = False,
    ) -> None:
        self.query = replace(query, after=None, offset=0)
        self.total = total
        self.page_size = page_size
        self.max_pages = max_pages
        self._pages: OrderedDict[int, list[Memory]] = OrderedDict()
        self._lock = threading.Lock()
        self.queries_run = 0  # for benches and tests: how many backend reads
        # A provisional source holds only the newest rows while the count is running.
        self.provisional = provisional

    def seed(self, start: int, rows: list[Memory]) -> None:
        """Store rows already read (indices start…) as the whole pages they fill; a
        partial page is kept only at the very end, where pages are short anyway."""
        end = start + len(rows)
        page = -(-start // self.page_size)  # first page that starts at or after start
        while True:
            begin = page * self.page_size
            stop = min(begin + self.page_size, self.total)
            if begin >= end or stop > end or begin >= stop:
                break
            self._store(page, rows[begin - start : stop - start])
            page += 1

    # --- reading (UI thread) ----------------------------------------------------------

    def page_of(self, index: int) -> int:
        return index // self.page_size

    @property
    def last_page(self) -> int:
        return max(self.total - 1, 0) // self.page_size

    def peek(self, index: int) -> Memory | None:
        """The memory at `index` if its page is cached, else None (no I/O)."""
        if not 0 <= index < self.total:
            return None
        with self._lock:
            page = self._pages.get(index // self.page_size)
            if page is None:
                return None
            self._pages.move_to_end(index // self.page_size)
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def has_page(self, page: int) -> bool:
        with self._lock:
            return page in self._pages

    def find(self, memory_id: str) -> int | None:
        """The index of a cached memory, if it is cached."""
        with self._lock:
            for number, rows in self._pages.items():
                for offset, memory in enumerate(rows):
                    if memory.id == memory_id:
                        return number * self.page_size + offset
        return None

    # --- loading (worker thread) ------------------------------------------------------

    def load_pages(self, backend: Backend, pages: list[int]) -> None:
        """Fetch the given pages that are not cached, nearest-neighbour first."""
        wanted = sorted({p for p in pages if 0 <= p <= self.last_page and self.total > 0})
        remaining = [p for p in wanted if not self.has_page(p)]
        while remaining:
            # Prefer a page that has a cached neighbour (pure keyset), then the ends.
            remaining.sort(key=self._cost)
            page = remaining.pop(0)
            self._store(page, self._fetch(backend, page))

    def _cost(self, page: int) -> int:
        if self.has_page(page - 1) or self.has_page(page + 1):
            return 0
        if page in (0, self.last_page):
            return 1
        return 2

    def _page_bounds(self, page: int) -> tuple[int, int]:
        start = page * self.page_size
        return start, min(start + self.page_size, self.total)

    def _fetch(self, backend: Backend, page: int) -> list[Memory]:
        start, end = self._page_bounds(page)
        size = end - start
        with self._lock:
            before = self._pages.get(page - 1)
            after = self._pages.get(page + 1)
        asc, desc = Order.ASC.value, Order.DESC.value
        if before:
            last = before[-1]
            rows = self._read(backend, asc, size, after=MemoryCursor(last.time, last.id))
        elif after:
            first = after[0]
            rows = self._read(backend, desc, size, after=MemoryCursor(first.time, first.id))
            rows.reverse()
        elif page == 0:
            rows = self._read(backend, asc, size)
        elif page == self.last_page:
            rows = self._read(backend, desc, size)
            rows.reverse()
        elif start < self.total - end:
            rows = self._read(backend, asc, size, offset=start)
        else:
            rows = self._read(backend, desc, size, offset=self.total - end)
            rows.reverse()
        return rows

    def _read(
        self,
        backend: Backend,
        order: str,
        limit: int,
        *,
        after: MemoryCursor | None = None,
        offset: int = 0,
    ) -> list[Memory]:
        self.queries_run += 1
        query = replace(self.query, order=order, limit=limit, after=after, offset=offset)
        return list(backend.list_memories(query).memories)

    def _store(self, page: int, rows: list[Memory]) -> None:
        with self._lock:
            self._pages[page] = rows
            self._pages.move_to_end(page)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
