"""Versioned schema migrations.

`SCHEMA_VERSION` in tables.py is the version this memtui writes. Opening a store with
an older version runs, in order, each step from STEPS whose key is above the stored
version, inside the same transaction that records the new version: either the whole
upgrade happens or none of it (SQLite and PostgreSQL both have transactional DDL).

Why not Alembic: memtui has two dialects, a handful of tables and an upgrade that must
run by itself when any memtui process (CLI, TUI, server) opens a store, atomically and
under the lock that serialises schema setup. A step is a plain function of the open
transaction's connection; Alembic's script directory, env.py and its own version table
would add a second source of truth for what `schema_meta.schema_version` already says.

Adding a version: bump SCHEMA_VERSION, change tables.py (new stores get the new schema
straight from it), add a step here that turns the previous version into the same
thing, and commit a fixture made by the previous version (tests/store/fixtures).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, MetaData
from sqlalchemy.exc import SQLAlchemyError

from memtui.domain.errors import BackendUnavailableError, MemtuiError

MigrationStep = Callable[[Connection, str], None]


_CHANGE_COLUMNS_SINCE_V5 = ("actor",)


def _v2_change_ids_never_reused(conn: Connection, dialect: str) -> None:
    """SQLite: rebuild `change` with AUTOINCREMENT, every row copied with its id; the
    copy sets sqlite_sequence to the highest id. PostgreSQL: a sequence never hands an
    id out twice already, nothing to change."""
    if dialect != "sqlite":
        return
    from memtui.store.tables import ChangeTable

    table = ChangeTable.__table__
    rebuilt = table.to_metadata(MetaData(), name="change_v2")
    # The version-2 table: later versions' columns and indexes come with their steps.
    for late in _CHANGE_COLUMNS_SINCE_V5:
        rebuilt._columns.remove(rebuilt.c[late])  # noqa: SLF001
    rebuilt.indexes.clear()
    rebuilt.create(conn)
    columns = ", ".join(f'"{column.name}"' for column in rebuilt.columns)
    conn.exec_driver_sql(f'INSERT INTO change_v2 ({columns}) SELECT {columns} FROM "change"')
    conn.exec_driver_sql('DROP TABLE "change"')
    conn.exec_driver_sql('ALTER TABLE change_v2 RENAME TO "change"')


def _v3_session_priority_index(conn: Connection, dialect: str) -> None:
    """The index context builds read a session through in priority order. Built inside
    the upgrade's transaction: on a large PostgreSQL store, writers wait for it (a
    million memories take seconds). Its version-3 shape, spelled out: version 4
    rebuilds it on `seq`, a column version 3 does not have yet."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_memory_session_priority ON memory "
        "(session_id, coalesce(importance, 0.5), time, id, memory_type)"
    )


# PostgreSQL: rows inserted without memtui (SQL scripts, COPY) get one too.
POSTGRES_SEQ_DEFAULT = "ALTER TABLE memory ALTER COLUMN seq SET DEFAULT nextval('memory_seq')"

# The memory indexes that end in (time, id) up to version 3 and in (time, seq) from 4.
_V4_REBUILT_INDEXES = (
    "ix_memory_session_time",
    "ix_memory_agent_time",
    "ix_memory_time",
    "ix_memory_type_time",
    "ix_memory_session_priority",
)


def _v4_insertion_order(conn: Connection, dialect: str) -> None:
    """memory.seq, the insertion order. Existing rows: SQLite's rowid, which is the
    order they were inserted in (memtui never VACUUMs, which may renumber rowids);
    PostgreSQL has no such thing, so (time, id) order, the order they were listed in
    until now. Then the indexes that ended in id end in seq."""
    from memtui.store.tables import MEMORY_SEQUENCE, MemoryTable

    for name in _V4_REBUILT_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    conn.exec_driver_sql("ALTER TABLE memory ADD COLUMN seq BIGINT NOT NULL DEFAULT 0")
    if dialect == "sqlite":
        conn.exec_driver_sql("UPDATE memory SET seq = rowid")
    else:
        conn.exec_driver_sql(
            "UPDATE memory SET seq = ordered.n FROM (SELECT id, row_number() OVER "
            "(ORDER BY time, id) AS n FROM memory) AS ordered WHERE ordered.id = memory.id"
        )
        MEMORY_SEQUENCE.create(conn, checkfirst=True)
        conn.exec_driver_sql(
            "SELECT setval('memory_seq', (SELECT coalesce(max(seq), 0) + 1 FROM memory), false)"
        )
        conn.exec_driver_sql(POSTGRES_SEQ_DEFAULT)
    for index in MemoryTable.__table__.indexes:
        if index.name in _V4_REBUILT_INDEXES or index.name == "ix_memory_seq":
            index.create(conn)  # all dropped above (or new)


def _v5_history_and_trash(conn: Connection, dialect: str) -> None:
    """History and trash: who made each change (`change.actor`, NULL for older ones),
    an index to read an object's changes, and the trash table."""
    from memtui.store.tables import ChangeTable, TrashTable

    conn.exec_driver_sql('ALTER TABLE "change" ADD COLUMN actor VARCHAR(200)')
    for index in ChangeTable.__table__.indexes:
        if index.name == "ix_change_entity":
            index.create(conn, checkfirst=True)
    TrashTable.__table__.create(conn, checkfirst=True)  # opening may have made it already


def _v6_search_index(conn: Connection, dialect: str) -> None:
    """The full-text index on memory content, built over every stored memory (progress
    on stderr for a large store: this is the one step that takes a while)."""
    from memtui.store.search_index import create_search_index, stderr_progress

    create_search_index(conn, dialect, progress=stderr_progress)


# version -> step that upgrades a store from version - 1 to version
STEPS: dict[int, MigrationStep] = {
    2: _v2_change_ids_never_reused,
    3: _v3_session_priority_index,
    4: _v4_insertion_order,
    5: _v5_history_and_trash,
    6: _v6_search_index,
}


def migrate(conn: Connection, found: int, target: int, *, dialect: str) -> None:
    """Runs the steps from `found` to `target` on `conn` (the caller's transaction).
    Any failure leaves the transaction to roll back: the store stays at `found`."""
    for version in range(found + 1, target + 1):
        step = STEPS.get(version)
        if step is None:
            raise BackendUnavailableError(
                f"no migration from schema version {version - 1} to {version}"
            )
        try:
            step(conn, dialect)
        except (MemtuiError, SQLAlchemyError):
            raise  # the store maps these (and retries a locked database)
        except Exception as exc:
            raise BackendUnavailableError(
                f"upgrading the store from schema version {version - 1} to {version} "
                f"failed ({type(exc).__name__}: {exc}); it was left at version {found}"
            ) from exc
