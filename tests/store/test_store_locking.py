"""A locked SQLite file: the store retries with backoff past SQLite's busy timeout, and
only when the lock outlasts the whole retry window does the caller see an error, a clear
one that says what happened. (tests/scale runs the same with many real processes.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from memtui.domain.errors import BackendUnavailableError
from memtui.domain.models import NewMemory
from memtui.store import SqlStore
from memtui.store import engine as store_engine


def hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO schema_meta (key, value) VALUES ('lock-test', 'x')")
    return holder


def test_a_lock_longer_than_the_busy_timeout_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 100)  # SQLite gives up after 0.1 s
    path = tmp_path / "locked.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        holder = hold_write_lock(path)
        release = threading.Timer(0.8, lambda: holder.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        try:
            stored = store.add_memories([NewMemory(agent_id="a", content="waited")])
        finally:
            release.join()
            holder.close()
        assert time.monotonic() - started >= 0.6  # it really waited, through retries
        assert store.get_memory(stored[0].id).content == "waited"
        assert [c.kind for c in store.changes_since(0)][-1] == "memory.created"
    finally:
        store.close()


def test_a_lock_that_never_ends_gives_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(store_engine, "LOCK_RETRY_SECONDS", 0.5)
    path = tmp_path / "locked.db"
    store = SqlStore(f"sqlite:///{path}")
    holder = hold_write_lock(path)
    try:
        with pytest.raises(BackendUnavailableError) as err:
            store.add_memories([NewMemory(agent_id="a", content="never")])
        message = str(err.value)
        assert str(path) in message and ("locked" in message or "busy" in message)
        assert "Traceback" not in message and "sqlite3." not in message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    try:
        assert store.latest_change_id() == 0
        assert store.list_agents() == []
    finally:
        store.close()
