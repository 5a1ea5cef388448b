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


def _v2_change_ids_never_reused(conn: Connection, dialect: str) -> None:
    """SQLite: rebuild `change` with AUTOINCREMENT, every row copied with its id; the
    copy sets sqlite_sequence to the highest id. PostgreSQL: a sequence never hands an
    id out twice already, nothing to change."""
    if dialect != "sqlite":
        return
    from memtui.store.tables import ChangeTable

    table = ChangeTable.__table__
    rebuilt = table.to_metadata(MetaData(), name="change_v2")
    rebuilt.create(conn)
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    conn.exec_driver_sql(f'INSERT INTO change_v2 ({columns}) SELECT {columns} FROM "change"')
    conn.exec_driver_sql('DROP TABLE "change"')
    conn.exec_driver_sql('ALTER TABLE change_v2 RENAME TO "change"')


def _v3_session_priority_index(conn: Connection, dialect: str) -> None:
    """The index context builds read a session through in priority order. Built inside
    the upgrade's transaction: on a large PostgreSQL store, writers wait for it (a
    million memories take seconds)."""
    from sqlalchemy import Index

    from memtui.store.tables import MemoryTable

    index = next(
        index
        for index in MemoryTable.__table__.indexes
        if index.name == "ix_memory_session_priority"
    )
    assert isinstance(index, Index)
    index.create(conn, checkfirst=True)


# version -> step that upgrades a store from version - 1 to version
STEPS: dict[int, MigrationStep] = {
    2: _v2_change_ids_never_reused,
    3: _v3_session_priority_index,
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
