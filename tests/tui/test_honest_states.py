"""Issue 9 items 3 and 6: states and messages that never mislead.

- After the store fails to open, every action says the store is not open and why
  (it used to run and end in "unexpected AttributeError: 'NoneType' object …").
- `o` (reopen) says when nothing changed; a reopened session whose time has run out
  says so; the status line shows expiring sessions as a part of the active ones; the
  briefing counts all recent activity, not just the 50 it carries.
"""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static

from memtui.connect import BackendTarget
from memtui.domain.models import MemoryQuery, NewMemory, SessionStatus
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.forms import NewSessionScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.widgets.briefing import BriefingPane
from memtui.tui.widgets.session_list import SessionCounts
from tests.tui.conftest import SIZE, toasts, wait_until


async def test_actions_say_the_store_is_not_open_and_why(make_app, settle, tmp_path):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database" * 200)
    app = make_app(target=BackendTarget(db_url=f"sqlite:///{bad}"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=4)
        assert app.fatal_error is not None
        reason = app.fatal_error
        app.session_list.table.focus()
        for key in ("n", "e", "E", "c", "o", "D"):
            before = len(toasts(app))
            await pilot.press(key)
            await pilot.pause()
            # No form opens that could never be saved…
            assert not isinstance(app.screen, NewSessionScreen | PromptScreen | ConfirmScreen)
            # …and the one message says why.
            new = toasts(app)[before:]
            assert len(new) == 1, (key, new)
            assert "the store is not open" in new[0] and reason in new[0], (key, new)
        await pilot.press("1")
        await pilot.pause()
        app.query_one("#timeline-view").focus()
        before = len(toasts(app))
        await pilot.press("a")
        await pilot.pause()
        assert "the store is not open" in toasts(app)[before]
        assert not any("unexpected" in t or "NoneType" in t for t in toasts(app))


async def select(pilot, app, session_id: str) -> None:
    pane = app.session_list
    pane.table.focus()
    pane.table.move_cursor(row=pane.shown_ids.index(session_id))
    await pilot.pause()


async def test_reopen_says_when_nothing_changed(small_store, clock, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Active: nothing to reopen, nothing written.
        await select(pilot, app, "sess_alpha")
        updated = small_store.get_session("sess_alpha").updated_at
        await pilot.press("o")
        await settle(pilot)
        assert "already active" in toasts(app)[-1]
        assert small_store.get_session("sess_alpha").updated_at == updated
        # Expired but never closed: only more time brings it back.
        await select(pilot, app, "sess_delta")
        await pilot.press("o")
        await settle(pilot)
        assert "expired" in toasts(app)[-1] and "e to extend" in toasts(app)[-1]
        assert not any(t.endswith("reopened.") for t in toasts(app))
        # Closed with time left: reopened, and the time left is said.
        await select(pilot, app, "sess_alpha")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert toasts(app)[-1] == "sess_alpha reopened: 5h 12m left."
        assert small_store.get_session("sess_alpha").status == SessionStatus.ACTIVE
        # Closed after its time ran out: reopened, but it shows as expired, and says so.
        await select(pilot, app, "sess_delta")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert "time has run out" in toasts(app)[-1]


async def test_status_counts_show_expiring_as_part_of_active(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        counts = app.status_bar.counts
        assert counts == SessionCounts(active=3, expiring=2, expired=1, closed=0)
        line = app.status_bar.render().plain
        assert "3 active (2 expiring) · 1 expired · 0 closed" in line
        # The figures beside each other add up to the rows.
        assert counts.active + counts.expired + counts.closed == len(app.session_list.shown_ids)


async def test_briefing_counts_all_recent_activity(small_store, clock, make_app, settle):
    small_store.add_memories(
        [
            NewMemory(
                agent_id="codex",
                session_id="sess_charlie",
                content=f"codex step {i}",
                time=clock.now - timedelta(minutes=i + 1),
            )
            for i in range(93)
        ]
    )
    assert small_store.count_memories(MemoryQuery(agent_id="codex")) == 93
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "sess_charlie")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.query_one(BriefingPane)
        await wait_until(pilot, lambda: pane.briefing is not None)
        title = str(pane.query_one("#brief-recent-title", Static).render())
        assert title == "Recent activity (93 in the last 24 h)"
        recent = str(pane.query_one("#brief-recent", Static).render())
        assert "… and 68 more" in recent
