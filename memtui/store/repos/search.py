"""Ranked search (`memtui search`, the MCP tool memory_recall): the memories the
substring filter finds, best match first, read through the full-text index
(memtui.store.search_index). SQLite ranks by FTS5's bm25 over the content's trigrams,
PostgreSQL by pg_trgm's word_similarity, then similarity; ties, and text too short to
have a trigram, newest first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, column, func, literal, literal_column, select, table, text

from memtui.domain.models import MemoryPage, MemoryQuery
from memtui.store.engine import Database, Tx
from memtui.store.repos.memories import MemoryRepo, check_query, memory_filters
from memtui.store.rows import MEMORY_COLUMNS, memory_from, memory_t
from memtui.store.search_index import FTS_TABLE, MIN_INDEXED_LENGTH, fts_query

_fts = table(FTS_TABLE, column("rowid"))
NEWEST = (memory_t.c.time.desc(), memory_t.c.seq.desc())


class SearchRepo:
    def __init__(self, db: Database, memories: MemoryRepo) -> None:
        self.db = db
        self.memories = memories
        self._trigram: bool | None = None  # PostgreSQL: is pg_trgm installed?

    def search_method(self) -> str:
        how = "bm25 over a trigram index" if self.db.is_sqlite else "trigram word similarity"
        return f"substring match on content, best match first ({how}), then newest"

    def _ranks(self, conn: Connection) -> bool:
        if self.db.is_sqlite:
            return True
        if self._trigram is None:
            found = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
            self._trigram = found.first() is not None
        return self._trigram

    def search_memories(self, query: MemoryQuery) -> MemoryPage:
        check_query(query)
        needle = query.content_contains
        if not needle or len(needle) < MIN_INDEXED_LENGTH:
            return self.memories.list_memories(replace(query, after=None, offset=0))

        def op(tx: Tx) -> MemoryPage | None:
            conn = tx.conn
            if not self._ranks(conn):
                return None
            clauses = memory_filters(conn, query)
            stmt: Any
            if self.db.is_sqlite:
                stmt = (
                    select(*MEMORY_COLUMNS)
                    .select_from(_fts.join(memory_t, memory_t.c.seq == _fts.c.rowid))
                    .where(
                        text(f"{FTS_TABLE} MATCH :fts_rank_query").bindparams(
                            fts_rank_query=fts_query(needle)
                        ),
                        *clauses,
                    )
                    # bm25: lower is better
                    .order_by(literal_column(f"bm25({FTS_TABLE})"), *NEWEST)
                )
            else:
                needle_lower = func.lower(literal(needle))
                content_lower = func.lower(memory_t.c.content)
                # The best word match first; among those, the content the text makes
                # up most of (pg_trgm knows no term frequency).
                stmt = (
                    select(*MEMORY_COLUMNS)
                    .where(*clauses)
                    .order_by(
                        func.word_similarity(needle_lower, content_lower).desc(),
                        func.similarity(needle_lower, content_lower).desc(),
                        *NEWEST,
                    )
                )
            rows = [memory_from(r) for r in conn.execute(stmt.limit(query.limit + 1))]
            more = len(rows) > query.limit
            return MemoryPage(memories=rows[: query.limit], has_more=more, next_cursor=None)

        page = self.db.read(op)
        if page is None:  # PostgreSQL without pg_trgm: unranked
            return self.memories.list_memories(replace(query, after=None, offset=0))
        return page
