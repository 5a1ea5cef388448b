"""The first screen's sessions read with stdlib sqlite3 (memtui.store.fastpath) agree
with the real store, on a file the real store made; anything unusual falls back."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from memtui.connect import BackendTarget
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store.fastpath import SESSION_SCHEMA_VERSIONS, read_recent_sessions, sqlite_path
from tests.tui.conftest import SIZE, wait_until


def fill(store: SqlStore, clock) -> None:  # type: ignore[no-untyped-def]
    store.create_session("claude", session_id="s_plain")
    clock.advance(seconds=1)
    store.create_session(
        "codex",
        session_id="s_meta",
        metadata={"task": "ünïcode ✓", "n": 3, "nested": {"a": [1, None]}},
        workspace_id="ws-1",
        ttl=timedelta(minutes=5),
    )
    clock.advance(seconds=1)
    store.create_session("claude", session_id="s_forever", ttl=None)
    store.create_session("claude", session_id="s_same_instant")  # ties: ordered by id
    clock.advance(seconds=1)
    store.create_session("gemini", session_id="s_closed")
    store.close_session("s_closed")
    clock.advance(minutes=10)  # s_meta has expired by now


@pytest.fixture
def made_by_store(sqlite_url: str, clock) -> str:  # type: ignore[no-untyped-def]
    store = SqlStore(sqlite_url, clock=clock)
    fill(store, clock)
    store.close()
    return sqlite_url


def test_the_schema_version_the_store_writes_is_one_the_fast_path_knows():
    # A schema bump must be looked at here: add it to SESSION_SCHEMA_VERSIONS only once
    # the `session` columns read by the fast path are checked against it.
    assert SCHEMA_VERSION in SESSION_SCHEMA_VERSIONS


@pytest.mark.parametrize("limit", [1, 2, 4, 150])
def test_reads_exactly_what_the_store_lists(made_by_store, clock, limit):
    fast = read_recent_sessions(made_by_store, limit)
    store = SqlStore(made_by_store, clock=clock)
    try:
        expected = store.list_sessions(limit=limit)
    finally:
        store.close()
    assert fast is not None
    assert fast == expected  # every field, every type (aware UTC datetimes, metadata)
    assert len(fast) == min(limit, 5)
    assert all(s.created_at.tzinfo is not None for s in fast)


def test_never_writes_or_creates_anything(made_by_store, tmp_path):
    path = sqlite_path(made_by_store)
    assert path is not None
    before = path.read_bytes()
    assert read_recent_sessions(made_by_store, 10)
    assert path.read_bytes() == before
    # A WAL reader may leave SQLite's -shm index and an empty -wal, as any reader
    # (the store too) does; nothing is written to the log.
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    missing = tmp_path / "nothing-here.db"
    assert read_recent_sessions(f"sqlite:///{missing}", 10) is None
    assert not missing.exists()


def test_falls_back_on_anything_unusual(made_by_store, tmp_path):
    assert read_recent_sessions("postgresql+psycopg://u@localhost/db", 10) is None
    assert read_recent_sessions("sqlite://", 10) is None
    assert read_recent_sessions("sqlite:///:memory:", 10) is None
    assert read_recent_sessions(f"{made_by_store}?timeout=5", 10) is None
    assert read_recent_sessions(made_by_store, 0) is None

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"not a database" * 500)
    assert read_recent_sessions(f"sqlite:///{corrupt}", 10) is None

    # A schema this module does not know (a future migration): the store decides.
    future = tmp_path / "future.db"
    future.write_bytes(Path(str(sqlite_path(made_by_store))).read_bytes())
    with sqlite3.connect(future) as connection:
        connection.execute("UPDATE schema_meta SET value = '999' WHERE key = 'schema_version'")
    connection.close()
    assert read_recent_sessions(f"sqlite:///{future}", 10) is None

    # A malformed row is a fallback too, never a half-read list or a traceback.
    broken = tmp_path / "broken.db"
    broken.write_bytes(Path(str(sqlite_path(made_by_store))).read_bytes())
    with sqlite3.connect(broken) as connection:
        connection.execute("UPDATE session SET metadata = '[1, 2]' WHERE id = 's_plain'")
    connection.close()
    assert read_recent_sessions(f"sqlite:///{broken}", 10) is None


def test_the_first_screen_imports_no_sql_library(made_by_store):
    code = textwrap.dedent(
        f"""
        import sys
        from memtui.tui.session_cache import read_store_sessions
        sessions = read_store_sessions({made_by_store!r}, 150)
        print(len(sessions))
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "sqlmodel")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert out.stdout.split() == ["5", "[]"]


async def test_the_app_paints_the_sessions_before_the_store_is_open(
    made_by_store, make_app, settle, monkeypatch
):
    from memtui.tui.app import MemtuiApp

    seen_when_opening: list[list[str]] = []
    open_target = MemtuiApp._open_target

    def spy(self, target):  # type: ignore[no-untyped-def]
        seen_when_opening.append(list(self.session_list.shown_ids))
        open_target(self, target)

    monkeypatch.setattr(MemtuiApp, "_open_target", spy)
    app = make_app(target=BackendTarget(db_url=made_by_store))
    async with app.run_test(size=SIZE) as pilot:
        # No cache file exists: the rows come from the file itself, before the store.
        await wait_until(pilot, lambda: bool(seen_when_opening), what="the store to open")
        assert seen_when_opening == [
            ["s_closed", "s_same_instant", "s_forever", "s_meta", "s_plain"]
        ]
        await settle(pilot, rounds=4)
        assert app.backend is not None and not app.session_list.from_cache
        assert app.status_bar.state == "live"
        assert len(app.session_list.shown_ids) == 5
