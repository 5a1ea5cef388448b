"""Schema version 4 (memory.seq, the insertion order that breaks ties in time): stores
made by versions 1, 2 and 3 open with every row intact, the memory indexes rebuilt on
(time, seq), and insertion order where it can be recovered:

- SQLite: from the rowid, the order rows were inserted in. The fixtures hold a batch of
  60 memories stored in one call with one timestamp (make_v1_fixtures.fill): after the
  upgrade it lists in the order it was stored.
- PostgreSQL has no such order: existing rows keep the (time, id) order they were
  listed in until now; new rows follow them in insertion order (memory_seq).

The v3 fixtures were made by tests/store/fixtures/make_v3_fixtures.py with the last
schema-version-3 code (the same rows as the v1 and v2 fixtures).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.errors import BackendUnavailableError
from memtui.domain.models import Memory, MemoryQuery, NewMemory, Order
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store import migrations as migrations_module
from tests.helpers.store_dump import dump_store

FIXTURES = Path(__file__).parent / "fixtures"
BATCH_SESSIONS = ("sess_v1_active", "sess_v1_forever", "sess_v1_closed")


def expected(version: int, kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"store_v{version}_{kind}.json").read_text(encoding="utf-8"))


def copy_fixture(tmp_path: Path, version: int) -> Path:
    copy = tmp_path / f"store_v{version}.db"
    shutil.copyfile(FIXTURES / f"store_v{version}.db", copy)  # never touch the committed file
    return copy


def sqlite_state(path: Path) -> tuple[Any, ...]:
    with sqlite3.connect(path) as conn:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        memory = conn.execute("SELECT * FROM memory ORDER BY id").fetchall()
        version = conn.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'")
        return schema, memory, version.fetchone()


def timeline(store: SqlStore, session_id: str) -> list[Memory]:
    return store.list_memories(
        MemoryQuery(session_id=session_id, order=Order.ASC.value, limit=1000)
    ).memories


def batch_numbers(memories: list[Memory]) -> list[int]:
    """The `n` of the fixture batch's memories ("memory n: ..."), in listed order."""
    numbers = []
    for memory in memories:
        found = re.match(r"memory (\d+):", memory.content)
        if found:
            numbers.append(int(found.group(1)))
    return numbers


@pytest.mark.parametrize("version", [1, 2, 3])
def test_sqlite_store_upgrades_to_4_with_every_row_in_insertion_order(
    tmp_path: Path, version: int
) -> None:
    path = copy_fixture(tmp_path, version)
    store = SqlStore(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION >= 4
        assert dump_store(store) == expected(version, "sqlite")
        for session_id in BATCH_SESSIONS:
            memories = timeline(store, session_id)
            batch = [m for m in memories if batch_numbers([m])]
            assert len({m.time for m in batch}) == 1  # one timestamp: only seq orders it
            numbers = batch_numbers(memories)
            assert len(numbers) > 5 and numbers == sorted(numbers), session_id
        # New rows come after the old ones, in their own insertion order.
        at = store.now() + timedelta(hours=1)
        added = store.add_memories(
            [
                NewMemory(
                    "planner", f"late {i}", session_id="sess_v1_active", time=at, id=f"z{9 - i}"
                )
                for i in range(3)
            ]
        )
        assert [m.id for m in timeline(store, "sess_v1_active")[-3:]] == [m.id for m in added]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [(distinct, rows)] = conn.execute("SELECT count(DISTINCT seq), count(*) FROM memory")
        assert distinct == rows


def test_a_fresh_store_has_the_indexes_the_upgrade_builds(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    SqlStore(f"sqlite:///{fresh}").close()
    upgraded = copy_fixture(tmp_path, 3)
    SqlStore(f"sqlite:///{upgraded}").close()

    def memory_indexes(path: Path) -> dict[str, str]:
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memory'"
            )
            return dict(rows.fetchall())

    indexes = memory_indexes(fresh)
    assert memory_indexes(upgraded) == indexes
    assert "seq" in indexes["ix_memory_session_time"] and "seq" in indexes["ix_memory_seq"]


def test_sqlite_v3_upgrade_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_fixture(tmp_path, 3)
    before = sqlite_state(path)
    real_step = migrations_module.STEPS[4]

    def failing_step(conn: Any, dialect: str) -> None:
        real_step(conn, dialect)
        raise RuntimeError("disk pulled mid-upgrade")

    monkeypatch.setitem(migrations_module.STEPS, 4, failing_step)
    with pytest.raises(BackendUnavailableError, match="from schema version 3 to 4"):
        SqlStore(f"sqlite:///{path}")
    assert sqlite_state(path) == before


@pytest.fixture
def v3_postgres() -> Iterator[str]:
    import psycopg

    from tests.helpers.postgres import (
        libpq_dsn,
        skip_or_fail_without_postgres,
        throwaway_database,
    )

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_migrate_v3") as url:
        script = (FIXTURES / "store_v3_postgres.sql").read_text(encoding="utf-8")
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(script)
        yield url


@pytest.mark.postgres
def test_postgres_v3_upgrades_to_4(v3_postgres: str) -> None:
    store = SqlStore(v3_postgres)
    try:
        assert store.schema_version() == SCHEMA_VERSION >= 4
        assert dump_store(store) == expected(3, "postgres")
        old = timeline(store, "sess_v1_active")
        assert [m.id for m in old] == [m.id for m in sorted(old, key=lambda m: (m.time, m.id))]
        at = store.now() + timedelta(hours=1)
        added = store.add_memories(
            [
                NewMemory(
                    "planner", f"late {i}", session_id="sess_v1_active", time=at, id=f"z{9 - i}"
                )
                for i in range(3)
            ]
        )
        assert [m.id for m in timeline(store, "sess_v1_active")[-3:]] == [m.id for m in added]
    finally:
        store.close()
    reopened = SqlStore(v3_postgres)  # a second open finds nothing left to do
    try:
        assert reopened.schema_version() == SCHEMA_VERSION
    finally:
        reopened.close()
