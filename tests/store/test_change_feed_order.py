"""The change feed never lets a follower skip a change, on both backends.

The PostgreSQL hazard: sequence ids are not committed in id order. Transaction A takes
change id 10, B takes 11 and commits first; a follower that reads now sees 11, moves
its cursor past 10, and never sees 10 once A commits. The store prevents it by taking a
transaction-scoped advisory lock right before appending change rows, so the next writer
cannot take an id until A has committed. SQLite serialises writers anyway.

This test freezes writer A between appending its change rows and committing, and checks
that writer B cannot get ahead of it and a follower never sees B's change without A's.
(tests/scale proves the same statistically with many writer processes.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.models import NewMemory
from memtui.store import SqlStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feed.db'}"
        return
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_feed") as database_url:
        yield database_url


def test_a_later_writer_cannot_commit_a_change_before_an_earlier_id(url: str) -> None:
    writer_a, writer_b, follower = SqlStore(url), SqlStore(url), SqlStore(url)
    try:
        writer_a.ensure_agent("a")
        writer_b.ensure_agent("b")
        cursor = follower.latest_change_id()

        appended, release = threading.Event(), threading.Event()
        original_append = writer_a._db._append_changes

        def append_then_wait(tx: Any) -> None:
            original_append(tx)  # A now holds its change id, uncommitted
            appended.set()
            release.wait(30)

        writer_a._db._append_changes = append_then_wait  # type: ignore[method-assign]
        a_done: list[Any] = []
        b_done: list[Any] = []
        thread_a = threading.Thread(
            target=lambda: a_done.append(
                writer_a.add_memories([NewMemory(agent_id="a", content="first")])
            )
        )
        thread_a.start()
        assert appended.wait(30)
        thread_b = threading.Thread(
            target=lambda: b_done.append(
                writer_b.add_memories([NewMemory(agent_id="b", content="second")])
            )
        )
        thread_b.start()

        # While A is frozen, B must not get its change committed, and the follower sees
        # nothing new at all (never B's change without A's).
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert follower.changes_since(cursor) == []
            time.sleep(0.05)
        assert b_done == []

        release.set()
        thread_a.join(30)
        thread_b.join(30)
        changes = follower.changes_since(cursor)
        assert [c.entity_id for c in changes] == [a_done[0][0].id, b_done[0][0].id]
        assert changes[0].id < changes[1].id
    finally:
        release.set()
        for store in (writer_a, writer_b, follower):
            store.close()
