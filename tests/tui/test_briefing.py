"""The briefing pane in the real app, on a real SQLite file with a frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from memtui.domain.models import NewSnapshot
from memtui.store import SqlStore
from memtui.tui.widgets.briefing import BriefingPane
from tests.tui.conftest import wait_until

SIZE = (120, 40)


class FixedNameStore(SqlStore):
    """The real store; only its description is fixed (the tmp path would churn snapshots)."""

    def describe(self) -> str:
        return "sqlite:///store.db"


@pytest.fixture
def brief_store(small_store: SqlStore) -> SqlStore:
    small_store.create_snapshot(
        "sess_alpha", NewSnapshot(event="checkpoint", open_tasks=["wire the briefing"])
    )
    return small_store


async def open_briefing(app: Any, pilot: Any, settle: Any, session_id: str) -> BriefingPane:
    await settle(pilot)
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(session_id))
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    return app.query_one(BriefingPane)


def section(pane: BriefingPane, name: str) -> str:
    return str(pane.query_one(f"#brief-{name}", Static).render())


async def test_briefing_shows_expiring_sessions_with_countdowns(
    brief_store, clock, make_app, settle
):
    app = make_app(brief_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_briefing(app, pilot, settle, "sess_bravo")
        # The selected session's agent (claude): bravo expires in 9m 03s.
        assert pane.scope_agent_id == "claude"
        expiring = section(pane, "expiring")
        assert "sess_bravo" in expiring and "9m 03s" in expiring
        assert "sess_charlie" not in expiring  # codex's
        assert "wire the briefing" in section(pane, "threads")
        assert "alpha memory 29" in section(pane, "recent")

        # All agents: codex's charlie (10m 05s) joins.
        await pilot.press("a")
        await settle(pilot)
        assert pane.scope_agent_id is None
        expiring = section(pane, "expiring")
        assert "sess_charlie" in expiring and "10m 05s" in expiring
        assert "sess_bravo" in expiring

        # The countdown follows the injected clock.
        clock.advance(seconds=10)
        # re-rendered by the pane's 1 Hz timer, not by a reload
        await wait_until(pilot, lambda: "9m 55s" in section(pane, "expiring"))
        assert "9m 55s" in section(pane, "expiring")
        assert "8m 53s" in section(pane, "expiring")


async def test_briefing_offers_its_actions_in_the_palette(brief_store, make_app, settle):
    app = make_app(brief_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_briefing(app, pilot, settle, "sess_alpha")
        titles = [command.title for command in pane.palette_commands()]
        assert "Briefing: switch agent / all agents" in titles
        assert pane.HELP.startswith("# Briefing")


def test_snapshot_briefing(brief_store, sqlite_url, clock, make_app, settle, snap_compare):
    app = make_app(FixedNameStore(sqlite_url, clock=clock))

    async def run_before(pilot: Any) -> None:
        pane = await open_briefing(app, pilot, settle, "sess_bravo")
        await pilot.press("a")
        await settle(pilot)
        pane.query_one("#brief-scroll").focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
