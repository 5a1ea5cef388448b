"""SQLite specifics of the SqlStore: pragmas, schema version, default location, atomic
batches, clear errors for corrupt files and bad URLs, locks and threads."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from memtui.domain.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MemtuiError,
)
from memtui.domain.models import MemoryQuery, NewMemory
from memtui.store import SCHEMA_VERSION, SqlStore


@pytest.fixture
def store(sqlite_url: str, clock) -> SqlStore:
    opened = SqlStore(sqlite_url, clock=clock)
    yield opened
    opened.close()


def _db_path(sqlite_url: str) -> Path:
    return Path(sqlite_url.removeprefix("sqlite:///"))


def test_wal_busy_timeout_and_foreign_keys_are_on(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_schema_version_is_recorded(store: SqlStore, sqlite_url: str) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(_db_path(sqlite_url)) as raw:
        [(value,)] = raw.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'")
    assert int(value) == SCHEMA_VERSION


def test_a_store_from_a_newer_memtui_is_refused_clearly(sqlite_url: str) -> None:
    SqlStore(sqlite_url).close()
    with sqlite3.connect(_db_path(sqlite_url)) as raw:
        raw.execute("UPDATE schema_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(BackendUnavailableError, match="newer memtui"):
        SqlStore(sqlite_url)


def test_default_database_is_created_in_the_data_dir(isolated_dirs: Path) -> None:
    store = SqlStore()
    try:
        store.create_session("a")
    finally:
        store.close()
    assert (isolated_dirs / "data" / "memtui.db").is_file()


def test_the_default_stores_parent_directories_are_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "deep" / "er"
    monkeypatch.setenv("MEMTUI_DATA_DIR", str(data))
    SqlStore().close()
    assert (data / "memtui.db").is_file()


def test_a_missing_directory_in_an_explicit_path_is_refused_and_nothing_created(
    tmp_path: Path,
) -> None:
    """A typo'd --db (issue 9, item 4): a clear error naming the field, no directory."""
    path = tmp_path / "deep" / "er" / "store.db"
    with pytest.raises(InvalidInputError, match="does not exist") as raised:
        SqlStore(f"sqlite:///{path}")
    assert raised.value.field == "db"
    assert not (tmp_path / "deep").exists()


def test_failed_batch_leaves_no_rows_and_no_changes(store: SqlStore, sqlite_url: str) -> None:
    [existing] = store.add_memories([NewMemory(agent_id="a", content="first", id="mem_taken")])
    before = store.latest_change_id()

    with pytest.raises(ConflictError, match="mem_taken"):
        store.add_memories(
            [
                NewMemory(agent_id="new-agent", content="would be fine", tags=["t"]),
                NewMemory(agent_id="a", content="clashes", id=existing.id),
            ]
        )

    with sqlite3.connect(_db_path(sqlite_url)) as raw:
        assert raw.execute("SELECT COUNT(*) FROM memory").fetchone() == (1,)
        assert raw.execute("SELECT COUNT(*) FROM memory_tag").fetchone() == (0,)
        assert raw.execute("SELECT COUNT(*) FROM agent WHERE id = 'new-agent'").fetchone() == (0,)
        assert raw.execute("SELECT MAX(id) FROM change").fetchone() == (before,)


def test_invalid_item_is_refused_before_anything_is_written(store: SqlStore) -> None:
    before = store.latest_change_id()
    with pytest.raises(InvalidInputError, match=r"memory #3"):
        store.add_memories(
            [NewMemory(agent_id="a", content="ok")] * 2 + [NewMemory(agent_id="a", content="")]
        )
    assert store.count_memories(MemoryQuery()) == 0
    assert store.latest_change_id() == before


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(BackendUnavailableError, match="corrupt") as err:
        SqlStore(f"sqlite:///{path}")
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "url",
    ["bogus://", "not a url", "mysql://user:pw@host/db", "sqlite+nodriver:///x.db"],
)
def test_bad_urls_give_a_clear_error(url: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid database URL") as err:
        SqlStore(url)
    assert "pw" not in str(err.value)


def test_unreachable_postgres_is_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailableError, match="cannot connect") as err:
        SqlStore("postgresql+psycopg://me:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in str(err.value)


def test_describe_masks_the_password() -> None:
    # Described without connecting: parse errors and masking happen before any I/O.
    with pytest.raises(MemtuiError) as err:
        SqlStore("postgresql+psycopg://me:s3cret@127.0.0.1:1/db")
    assert "***" in str(err.value) and "s3cret" not in str(err.value)


def test_a_write_waits_out_another_process_lock(store: SqlStore, sqlite_url: str) -> None:
    store.create_session("a")
    holder = sqlite3.connect(
        _db_path(sqlite_url), isolation_level=None, timeout=10, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO schema_meta (key, value) VALUES ('lock-test', 'x')")
    release = threading.Timer(0.7, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        session = store.create_session("b")  # must wait, not fail
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - started >= 0.5
    assert store.get_session(session.id).agent_id == "b"


def test_threads_share_one_store(store: SqlStore) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                store.add_memories([NewMemory(agent_id=f"agent-{n}", content=f"{n}/{i}")])
                store.list_memories(MemoryQuery(agent_id=f"agent-{n}", limit=5))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_memories(MemoryQuery()) == 120
    changes = store.changes_since(0, limit=10_000)
    assert len([c for c in changes if c.kind == "memory.created"]) == 120


def test_times_are_stored_as_sortable_utc_text(store: SqlStore, sqlite_url: str, clock) -> None:
    store.add_memories([NewMemory(agent_id="a", content="x")])
    with sqlite3.connect(_db_path(sqlite_url)) as raw:
        [(stored,)] = raw.execute("SELECT time FROM memory")
    assert stored == clock.now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
