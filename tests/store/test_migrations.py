"""Schema migrations: a store made by schema version 1 opens in this memtui with every
row intact, on SQLite (a committed v1 file) and PostgreSQL (a committed SQL script of a
v1 database); a store from a newer memtui is refused with a clear message and left as it
was.

The fixtures were made by tests/store/fixtures/make_v1_fixtures.py at the last
schema-version-1 commit; `store_v1_*.json` is what that store held, read through the
Backend protocol (tests.helpers.store_dump).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.errors import BackendUnavailableError
from memtui.domain.models import NewMemory
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store import migrations as migrations_module
from tests.helpers.store_dump import dump_store

FIXTURES = Path(__file__).parent / "fixtures"


def expected(kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"store_v1_{kind}.json").read_text(encoding="utf-8"))


def sqlite_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, read with plain sqlite3 (no memtui code in between)."""
    with sqlite3.connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }


@pytest.fixture
def v1_sqlite(tmp_path: Path) -> Path:
    copy = tmp_path / "store_v1.db"
    shutil.copyfile(FIXTURES / "store_v1.db", copy)  # never touch the committed file
    return copy


@pytest.fixture
def v1_postgres() -> Iterator[str]:
    import psycopg

    from tests.helpers.postgres import (
        libpq_dsn,
        skip_or_fail_without_postgres,
        throwaway_database,
    )

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_migrate") as url:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute((FIXTURES / "store_v1_postgres.sql").read_text(encoding="utf-8"))
        yield url


def test_the_fixture_is_really_version_1(v1_sqlite: Path) -> None:
    tables = sqlite_tables(v1_sqlite)
    assert ("schema_version", "1") in tables["schema_meta"]
    assert SCHEMA_VERSION > 1


def test_sqlite_v1_opens_in_this_version_with_every_row(v1_sqlite: Path) -> None:
    before = sqlite_tables(v1_sqlite)
    store = SqlStore(f"sqlite:///{v1_sqlite}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert dump_store(store) == expected("sqlite")
        # the v2 change feed: ids come from AUTOINCREMENT and keep growing
        old_max = max(c["id"] for c in expected("sqlite")["changes"])
        store.add_memories([NewMemory(agent_id="planner", content="after the upgrade")])
        assert store.changes_since(old_max)[-1].id > old_max
    finally:
        store.close()
    after = sqlite_tables(v1_sqlite)
    for table, rows in before.items():
        if table in ("schema_meta", "memory", "memory_tag", "change", "agent"):
            continue
        assert after[table] == rows, table
    # version 4 appended memory.seq: the rows as they were, plus their insertion order
    assert set(before["memory"]) <= {row[:-1] for row in after["memory"]}
    # version 5 appended change.actor (unknown for older changes)
    assert set(before["change"]) <= {row[:-1] for row in after["change"]}
    assert all(row[-1] is None for row in after["change"] if row[:-1] in set(before["change"]))
    assert ("schema_version", str(SCHEMA_VERSION)) in after["schema_meta"]
    with sqlite3.connect(v1_sqlite) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        change_sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'change'"
        ).fetchone()[0]
        assert "AUTOINCREMENT" in change_sql.upper()


def test_sqlite_change_ids_are_never_reused_after_the_upgrade(v1_sqlite: Path) -> None:
    """Why v2 exists: without AUTOINCREMENT, deleting the newest change rows would
    hand their ids out again, and a follower whose cursor is past them would skip the
    new changes."""
    store = SqlStore(f"sqlite:///{v1_sqlite}")
    try:
        latest = store.latest_change_id()
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM change WHERE id > {latest - 5}")
        store.add_memories([NewMemory(agent_id="planner", content="new")])
        assert store.changes_since(latest)[0].id > latest
    finally:
        store.close()


def test_processes_opening_a_v1_file_at_once_upgrade_it_once(v1_sqlite: Path) -> None:
    url = f"sqlite:///{v1_sqlite}"
    script = (
        "import sys; from memtui.store import SqlStore; "
        "s = SqlStore(sys.argv[1]); print(s.schema_version()); s.close()"
    )
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", script, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [opener.communicate(timeout=120) for opener in openers]
    assert [o[0].strip() for o in outputs] == [str(SCHEMA_VERSION).encode()] * 4, outputs
    store = SqlStore(url)
    try:
        assert dump_store(store) == expected("sqlite")
    finally:
        store.close()


def test_upgrade_is_all_or_nothing(v1_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sqlite_tables(v1_sqlite)
    real_step = migrations_module.STEPS[2]

    def failing_step(conn: Any, dialect: str) -> None:
        real_step(conn, dialect)
        raise RuntimeError("disk pulled mid-upgrade")

    monkeypatch.setitem(migrations_module.STEPS, 2, failing_step)
    with pytest.raises(BackendUnavailableError, match="upgrade"):
        SqlStore(f"sqlite:///{v1_sqlite}")
    assert sqlite_tables(v1_sqlite) == before


def test_a_newer_schema_is_refused_and_left_untouched(v1_sqlite: Path) -> None:
    with sqlite3.connect(v1_sqlite) as conn:
        conn.execute("UPDATE schema_meta SET value = '99' WHERE key = 'schema_version'")
    before = sqlite_tables(v1_sqlite)
    with pytest.raises(BackendUnavailableError, match=r"schema version 99.*newer memtui"):
        SqlStore(f"sqlite:///{v1_sqlite}")
    assert sqlite_tables(v1_sqlite) == before


def test_the_cli_opens_a_v1_file(v1_sqlite: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memtui", "sessions", "--db", f"sqlite:///{v1_sqlite}", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    listed = {s["id"] for s in json.loads(result.stdout)["sessions"]}
    assert listed == {s["id"] for s in expected("sqlite")["sessions"]}


@pytest.mark.postgres
def test_postgres_v1_opens_in_this_version_with_every_row(v1_postgres: str) -> None:
    store = SqlStore(v1_postgres)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert dump_store(store) == expected("postgres")
        old_max = max(c["id"] for c in expected("postgres")["changes"])
        store.add_memories([NewMemory(agent_id="planner", content="after the upgrade")])
        assert store.changes_since(old_max)[-1].id > old_max
    finally:
        store.close()
    reopened = SqlStore(v1_postgres)  # a second open finds nothing left to do
    try:
        assert reopened.schema_version() == SCHEMA_VERSION
    finally:
        reopened.close()


@pytest.mark.postgres
def test_postgres_newer_schema_is_refused_and_left_untouched(v1_postgres: str) -> None:
    import psycopg

    from tests.helpers.postgres import libpq_dsn

    with psycopg.connect(libpq_dsn(v1_postgres), autocommit=True) as conn:
        conn.execute("UPDATE schema_meta SET value = '99' WHERE key = 'schema_version'")
        tables_before = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    with pytest.raises(BackendUnavailableError, match=r"schema version 99.*newer memtui"):
        SqlStore(v1_postgres)
    with psycopg.connect(libpq_dsn(v1_postgres), autocommit=True) as conn:
        version = conn.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'")
        assert version.fetchone() == ("99",)
        assert (
            conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
            == tables_before
        )
        assert conn.execute("SELECT count(*) FROM memory").fetchone() == (
            len(expected("postgres")["memories"]),
        )
