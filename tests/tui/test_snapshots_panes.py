"""The snapshots pane in the real app, on a real SQLite file with a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.widgets import Static

from memtui.domain.models import NewSnapshot
from memtui.store import SqlStore
from memtui.tui.widgets.snapshots import SnapshotsPane
from tests.tui.conftest import LIVE_POLL, wait_until

SIZE = (120, 40)
SESSION = "sess_alpha"


class FixedNameStore(SqlStore):
    """The real store; only its description is fixed (the tmp path would churn snapshots)."""

    def describe(self) -> str:
        return "sqlite:///store.db"


@pytest.fixture
def snap_store(small_store: SqlStore, clock: Any) -> SqlStore:
    start = clock.now
    events = [
        ("checkpoint", ["memtui/store/sql.py"], ["SQLite in WAL mode"], ["write the store"]),
        ("pre_compact", ["memtui/tui/app.py", "memtui/tui/app.tcss"], [], ["panes", "tests"]),
        ("session_end", ["README.md"], ["ship it"], []),
    ]
    for minutes_ago, (event, files, decisions, tasks) in zip((90, 45, 5), events, strict=True):
        clock.now = start.replace(second=0) - timedelta(minutes=minutes_ago)
        small_store.create_snapshot(
            SESSION,
            NewSnapshot(
                event=event,
                project_path="/home/dev/memtui",
                files_modified=files,
                key_decisions=decisions,
                open_tasks=tasks,
            ),
        )
    clock.now = start
    return small_store


async def open_snapshots(app: Any, pilot: Any, settle: Any) -> SnapshotsPane:
    await settle(pilot)
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(SESSION))
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    return app.query_one(SnapshotsPane)


async def test_snapshots_newest_first_with_their_details(snap_store, make_app, settle):
    app = make_app(snap_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_snapshots(app, pilot, settle)
        stored = snap_store.list_snapshots(SESSION)
        newest_first = sorted(stored, key=lambda s: s.created_at, reverse=True)
        assert pane.snapshot_ids == [s.id for s in newest_first]
        table = pane.query_one("#snap-list")
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == [
            "session end",
            "pre-compact",
            "checkpoint",
        ]
        # Local time (TZ is pinned to UTC in tests): 15:09:26 - 5 min -> 15:04.
        assert str(table.get_row_at(0)[1]) == "03-14 15:04"

        detail = str(pane.query_one("#snap-detail", Static).render())
        assert "session end" in detail and "README.md" in detail and "ship it" in detail

        table.focus()
        await pilot.press("down")
        await settle(pilot)
        detail = str(pane.query_one("#snap-detail", Static).render())
        assert "Files modified (2)" in detail and "memtui/tui/app.tcss" in detail
        assert "Open tasks (2)" in detail and "☐ tests" in detail
        assert "Key decisions (0)" in detail


async def test_a_new_snapshot_from_another_process_appears(
    snap_store, sqlite_url, clock, make_app, settle
):
    app = make_app(snap_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_snapshots(app, pilot, settle)
        other = SqlStore(sqlite_url, clock=clock)
        created = other.create_snapshot(SESSION, NewSnapshot(event="checkpoint", open_tasks=["x"]))
        other.close()
        await wait_until(pilot, lambda: pane.snapshot_ids[:1] == [created.id], what="the feed")
        await settle(pilot)
        assert pane.snapshot_ids[0] == created.id
        assert len(pane.snapshot_ids) == 4


async def test_a_session_without_snapshots_says_so(snap_store, make_app, settle):
    app = make_app(snap_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_list = app.session_list
        session_list.table.move_cursor(row=session_list.shown_ids.index("sess_bravo"))
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = app.query_one(SnapshotsPane)
        assert "has no snapshots yet" in str(pane.query_one("#snap-message", Static).render())


def test_snapshot_snapshots_pane(snap_store, sqlite_url, clock, make_app, settle, snap_compare):
    app = make_app(FixedNameStore(sqlite_url, clock=clock))

    async def run_before(pilot: Any) -> None:
        pane = await open_snapshots(app, pilot, settle)
        pane.query_one("#snap-list").focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
