"""Schema version 3 (ix_memory_session_priority, the index context builds read a
session through in priority order): a store made by schema version 2, and one made by
version 1, opens in this memtui with every row intact and the index in place, on SQLite
(committed files) and PostgreSQL (committed SQL scripts); a failing step leaves the
store as it was.

The v2 fixtures were made by tests/store/fixtures/make_v2_fixtures.py at the last
schema-version-2 commit (the same rows as the v1 fixtures); `store_v2_*.json` is what
that store held, read through the Backend protocol (tests.helpers.store_dump).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.context import render_context
from memtui.domain.errors import BackendUnavailableError
from memtui.domain.models import ContextRequest, Memory, MemoryQuery, NewMemory
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store import migrations as migrations_module
from tests.helpers.insertion_order import with_insertion_order
from tests.helpers.store_dump import dump_store

FIXTURES = Path(__file__).parent / "fixtures"
INDEX = "ix_memory_session_priority"


def expected(version: int, kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"store_v{version}_{kind}.json").read_text(encoding="utf-8"))


def sqlite_schema(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memory'"
        )
        return {"version": int(version.fetchone()[0]), "indexes": dict(indexes.fetchall())}


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }


def copy_fixture(tmp_path: Path, version: int) -> Path:
    copy = tmp_path / f"store_v{version}.db"
    shutil.copyfile(FIXTURES / f"store_v{version}.db", copy)  # never touch the committed file
    return copy


def all_memories(store: SqlStore, session_id: str) -> list[Memory]:
    return store.list_memories(MemoryQuery(session_id=session_id, limit=10_000)).memories


def assert_context_builds_match_the_engine(store: SqlStore) -> None:
    """Context builds on the upgraded store read through the new index and give what
    the engine gives on the session's memories."""
    for session in store.list_sessions():
        memories = all_memories(store, session.id)
        for budget in (60, 150, 2000, None):
            request = ContextRequest(max_tokens=budget)
            assert store.build_context(session.id, request) == render_context(
                session.id, with_insertion_order(store, memories), request
            )


@pytest.mark.parametrize("version", [1, 2])
def test_sqlite_store_opens_at_the_current_version_with_every_row(
    tmp_path: Path, version: int
) -> None:
    path = copy_fixture(tmp_path, version)
    before = sqlite_schema(path)
    assert before["version"] == version and INDEX not in before["indexes"]
    rows_before = sqlite_rows(path)

    store = SqlStore(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert dump_store(store) == expected(version, "sqlite")
        assert_context_builds_match_the_engine(store)
    finally:
        store.close()

    after = sqlite_schema(path)
    assert after["version"] == SCHEMA_VERSION
    assert "coalesce(importance, 0.5)" in after["indexes"][INDEX].replace('"', "")
    rows_after = sqlite_rows(path)
    for table in ("agent", "session", "memory_tag", "working_memory", "snapshot"):
        assert rows_after[table] == rows_before[table], table
    # version 4 appended memory.seq
    assert sorted(row[:-1] for row in rows_after["memory"]) == rows_before["memory"]
    # version 5 appended change.actor
    assert set(rows_before["change"]) <= {row[:-1] for row in rows_after["change"]}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_fresh_store_has_the_index_the_upgrade_creates(tmp_path: Path) -> None:
    """New stores get the index from tables.py, upgraded ones from the v3 step: the
    same definition either way."""
    fresh = tmp_path / "fresh.db"
    SqlStore(f"sqlite:///{fresh}").close()
    upgraded = copy_fixture(tmp_path, 2)
    SqlStore(f"sqlite:///{upgraded}").close()
    assert sqlite_schema(fresh)["indexes"][INDEX] == sqlite_schema(upgraded)["indexes"][INDEX]


def test_sqlite_v2_upgrade_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_fixture(tmp_path, 2)
    before = sqlite_rows(path), sqlite_schema(path)
    real_step = migrations_module.STEPS[3]

    def failing_step(conn: Any, dialect: str) -> None:
        real_step(conn, dialect)
        raise RuntimeError("disk pulled mid-upgrade")

    monkeypatch.setitem(migrations_module.STEPS, 3, failing_step)
    with pytest.raises(BackendUnavailableError, match="from schema version 2 to 3"):
        SqlStore(f"sqlite:///{path}")
    assert (sqlite_rows(path), sqlite_schema(path)) == before


@contextmanager
def postgres_store_of_version(version: int) -> Iterator[str]:
    import psycopg

    from tests.helpers.postgres import (
        libpq_dsn,
        skip_or_fail_without_postgres,
        throwaway_database,
    )

    skip_or_fail_without_postgres()
    with throwaway_database(f"memtui_migrate_v{version}") as url:
        script = (FIXTURES / f"store_v{version}_postgres.sql").read_text(encoding="utf-8")
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(script)
        yield url


@pytest.fixture(params=[1, 2])
def old_postgres(request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    with postgres_store_of_version(request.param) as url:
        yield request.param, url


@pytest.fixture
def v2_postgres() -> Iterator[str]:
    with postgres_store_of_version(2) as url:
        yield url


def postgres_indexes(url: str) -> dict[str, str]:
    import psycopg

    from tests.helpers.postgres import libpq_dsn

    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'memory'"
        ).fetchall()
    return dict(rows)


@pytest.mark.postgres
def test_postgres_store_opens_at_the_current_version_with_every_row(
    old_postgres: tuple[int, str],
) -> None:
    version, url = old_postgres
    assert INDEX not in postgres_indexes(url)
    store = SqlStore(url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert dump_store(store) == expected(version, "postgres")
        assert_context_builds_match_the_engine(store)
        old_max = max(c["id"] for c in expected(version, "postgres")["changes"])
        store.add_memories([NewMemory(agent_id="planner", content="after the upgrade")])
        assert store.changes_since(old_max)[-1].id > old_max
    finally:
        store.close()
    definition = postgres_indexes(url)[INDEX]
    assert "COALESCE(importance, (0.5)::double precision)" in definition, definition
    reopened = SqlStore(url)  # a second open finds nothing left to do
    try:
        assert reopened.schema_version() == SCHEMA_VERSION
    finally:
        reopened.close()


@pytest.mark.postgres
def test_postgres_v2_upgrade_is_all_or_nothing(
    v2_postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from tests.helpers.postgres import libpq_dsn

    url = v2_postgres
    real_step = migrations_module.STEPS[3]

    def failing_step(conn: Any, dialect: str) -> None:
        real_step(conn, dialect)
        raise RuntimeError("connection dropped mid-upgrade")

    monkeypatch.setitem(migrations_module.STEPS, 3, failing_step)
    with pytest.raises(BackendUnavailableError, match="from schema version 2 to 3"):
        SqlStore(url)
    assert INDEX not in postgres_indexes(url)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        found = conn.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'")
        assert found.fetchone() == ("2",)
        assert conn.execute("SELECT count(*) FROM memory").fetchone() == (
            len(expected(2, "postgres")["memories"]),
        )
