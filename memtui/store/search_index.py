"""The full-text index on memory content (schema version 5), for the substring filter
(`MemoryQuery.content_contains`: the timeline's text filter, `/search`, recall).

- SQLite: an FTS5 table with the trigram tokenizer, `memory_fts`, over the memory
  table's content (external content: the index alone is stored, keyed by `memory.seq`,
  which VACUUM never renumbers), kept in step by three triggers. A query of 3 or more
  characters asks the index for its candidates; up to MAX_CANDIDATES of them, only
  those rows are read, and checked with the same LIKE as before. Shorter text (no
  trigram) and text that common scan as before.
- PostgreSQL: a pg_trgm GIN index on `lower(content)`, the very expression the filter
  compares (`lower(content) LIKE '%' || lower(:text) || '%'`), so the planner uses it
  with no change to the query. Without the pg_trgm extension (not installed on the
  server, or no right to create it), the store works as before, unindexed.

The index only narrows the rows a LIKE looks at: results are exactly the LIKE's.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from sqlalchemy import Connection, text

log = logging.getLogger("memtui.store")

FTS_TABLE = "memory_fts"
TRIGRAM_INDEX = "ix_memory_content_trgm"
MIN_INDEXED_LENGTH = 3  # a trigram: shorter text has none to look up
MAX_CANDIDATES = 1000  # more candidates than this: the LIKE scans instead
BUILD_CHUNK = 20_000  # memories indexed per statement while building
PROGRESS_FROM = 50_000  # stores this large say how the build goes

_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "content, content='memory', content_rowid='seq', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS memory_fts_insert AFTER INSERT ON memory BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.seq, new.content); END",
    f"CREATE TRIGGER IF NOT EXISTS memory_fts_delete AFTER DELETE ON memory BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.seq, old.content); END",
    f"CREATE TRIGGER IF NOT EXISTS memory_fts_update AFTER UPDATE OF content, seq ON memory "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.seq, old.content); "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.seq, new.content); END",
)

Progress = Callable[[int, int], None]


def stderr_progress(done: int, total: int) -> None:
    """The build's progress on stderr (every process that opens an old store may be
    the one that builds its index; a large one takes a while)."""
    if total < PROGRESS_FROM:
        return
    if done == 0:
        sys.stderr.write(f"memtui: building the search index of {total:,} memories…\n")
    elif done >= total:
        sys.stderr.write(f"memtui: search index built ({total:,} memories)\n")
    else:
        sys.stderr.write(f"memtui: search index: {done:,} of {total:,} ({done * 100 // total}%)\n")
    sys.stderr.flush()


def create_search_index(
    conn: Connection, dialect: str, *, progress: Progress | None = None
) -> None:
    """Creates the index and indexes every memory already stored (in the caller's
    transaction: a failure leaves the store as it was)."""
    if dialect == "sqlite":
        _create_sqlite(conn, progress)
    else:
        _create_postgres(conn, progress)


def _create_sqlite(conn: Connection, progress: Progress | None) -> None:
    for statement in _SQLITE_DDL:
        conn.exec_driver_sql(statement)
    total = int(conn.exec_driver_sql("SELECT count(*) FROM memory").scalar() or 0)
    if progress is not None:
        progress(0, total)
    done, after = 0, -(2**63)
    reported = 0
    started = time.monotonic()
    insert = f"INSERT INTO {FTS_TABLE}(rowid, content) SELECT seq, content FROM memory "
    while True:
        # One chunk by seq (unique, indexed): each memory is read once.
        last = conn.execute(
            text("SELECT seq FROM memory WHERE seq > :after ORDER BY seq LIMIT 1 OFFSET :n"),
            {"after": after, "n": BUILD_CHUNK - 1},
        ).scalar()
        if last is None:
            conn.execute(text(insert + "WHERE seq > :after"), {"after": after})
            break
        conn.execute(
            text(insert + "WHERE seq > :after AND seq <= :last"), {"after": after, "last": last}
        )
        done += BUILD_CHUNK
        after = last
        if progress is not None and done - reported >= total // 10:
            progress(done, total)
            reported = done
    if progress is not None:
        progress(total, total)
    log.info("search index: %d memories in %.1f s", total, time.monotonic() - started)


def _create_postgres(conn: Connection, progress: Progress | None) -> None:
    total = int(conn.exec_driver_sql("SELECT count(*) FROM memory").scalar() or 0)
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - no pg_trgm: the store works, unindexed
        savepoint.rollback()
        log.warning("no full-text index: the pg_trgm extension is not available (%s)", exc)
        return
    savepoint.commit()
    if progress is not None:
        progress(0, total)
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON memory "
        "USING gin (lower(content) gin_trgm_ops)"
    )
    if progress is not None:
        progress(total, total)


def fts_query(needle: str) -> str:
    """An FTS5 query for the trigrams of `needle` as one phrase (any character allowed:
    quotes doubled inside a string)."""
    return '"' + needle.replace('"', '""') + '"'


def indexed_candidates(conn: Connection, needle: str) -> list[int] | None:
    """SQLite: the seq of every memory whose content may contain `needle` (a superset:
    the index folds case beyond ASCII, the LIKE that follows does not). None when the
    index would not help: fewer than 3 characters (no trigram), or more than
    MAX_CANDIDATES candidates. Text that common is found as fast by the LIKE's scan
    (matches are dense: a page fills early), and a list that long costs more than it
    saves."""
    if len(needle) < MIN_INDEXED_LENGTH:
        return None
    seqs = list(
        conn.execute(
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q LIMIT :n"),
            {"q": fts_query(needle), "n": MAX_CANDIDATES + 1},
        ).scalars()
    )
    return None if len(seqs) > MAX_CANDIDATES else seqs
