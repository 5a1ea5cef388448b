"""Schema version 5 (history and trash: change.actor, ix_change_entity, the trash
table): stores made by version 4 open with every row intact; their changes have no
actor (unknown), new ones do; a fresh store and an upgraded one have the same schema
for what version 5 adds. The v4 fixtures were made by
tests/store/fixtures/make_v4_fixtures.py with the last schema-version-4 code."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.actor import acting_as
from memtui.domain.errors import BackendUnavailableError
from memtui.domain.history import HistoryTarget
from memtui.domain.models import NewMemory
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store import migrations as migrations_module
from tests.helpers.store_dump import dump_store
from tests.store.test_migrations_v4 import copy_fixture, expected, sqlite_state


def _schema(path: Path, table: str) -> tuple[list[Any], dict[str, str]]:
    """A table's columns and its indexes' definitions (ALTER TABLE words the table's
    own CREATE statement differently, so that is compared by its columns)."""
    with sqlite3.connect(path) as conn:
        columns = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = ? AND type = 'index' "
            "AND sql IS NOT NULL",
            (table,),
        )
        return columns, dict(rows.fetchall())


def test_sqlite_v4_upgrades_to_5_with_every_row(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, 4)
    store = SqlStore(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION >= 5
        assert dump_store(store) == expected(4, "sqlite")
        assert all(c.actor is None for c in store.changes_since(0))
        with acting_as("tui"):
            [added] = store.add_memories([NewMemory(agent_id="planner", content="after")])
        [revision] = store.history(HistoryTarget.memory(added.id))
        assert revision.actor == "tui" and revision.action == "created"
        assert store.list_trash() == []
    finally:
        store.close()
    fresh = tmp_path / "fresh.db"
    SqlStore(f"sqlite:///{fresh}").close()
    for table in ("change", "trash"):
        assert _schema(path, table) == _schema(fresh, table), table
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sqlite_v4_upgrade_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_fixture(tmp_path, 4)
    before = sqlite_state(path)
    real_step = migrations_module.STEPS[5]

    def failing_step(conn: Any, dialect: str) -> None:
        real_step(conn, dialect)
        raise RuntimeError("disk pulled mid-upgrade")

    monkeypatch.setitem(migrations_module.STEPS, 5, failing_step)
    with pytest.raises(BackendUnavailableError, match="from schema version 4 to 5"):
        SqlStore(f"sqlite:///{path}")
    assert sqlite_state(path) == before


@pytest.fixture
def v4_postgres() -> Iterator[str]:
    import psycopg

    from tests.helpers.postgres import (
        libpq_dsn,
        skip_or_fail_without_postgres,
        throwaway_database,
    )

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_migrate_v4") as url:
        script = (Path(__file__).parent / "fixtures" / "store_v4_postgres.sql").read_text("utf-8")
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(script)
        yield url


@pytest.mark.postgres
def test_postgres_v4_upgrades_to_5(v4_postgres: str) -> None:
    store = SqlStore(v4_postgres)
    try:
        assert store.schema_version() == SCHEMA_VERSION >= 5
        assert dump_store(store) == expected(4, "postgres")
        with acting_as("cli"):
            [added] = store.add_memories([NewMemory(agent_id="planner", content="after")])
        store.delete_memories([added.id])
        [item] = store.list_trash()
        assert item.entity_id == added.id and item.actor == "cli"
    finally:
        store.close()
    reopened = SqlStore(v4_postgres)
    try:
        assert reopened.schema_version() == SCHEMA_VERSION
    finally:
        reopened.close()
