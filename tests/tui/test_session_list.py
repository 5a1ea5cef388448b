"""Session list: countdowns at frozen times, crossings, filters and every action."""

from __future__ import annotations

from datetime import timedelta

from memtui.domain.models import SessionStatus
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.forms import NewSessionScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.widgets.session_list import SessionCounts, SessionListPane
from tests.tui.conftest import SIZE, toasts, wait_for_screen


def left_text(pane: SessionListPane, session_id: str) -> str:
    return str(pane.table.get_cell(session_id, "left"))


async def select(pilot, pane: SessionListPane, session_id: str) -> None:
    pane.table.focus()
    pane.table.move_cursor(row=pane.shown_ids.index(session_id))
    await pilot.pause()
    assert pane.selected_session is not None and pane.selected_session.id == session_id


async def test_countdowns_toasts_on_crossing_and_counts(small_store, clock, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        assert left_text(pane, "sess_alpha") == "5h 12m"
        assert left_text(pane, "sess_bravo") == "9m 03s"
        assert left_text(pane, "sess_charlie") == "10m 05s"
        assert left_text(pane, "sess_delta") == "expired 3m ago"
        # Nothing is announced at startup, not even the already-expired session.
        assert not [m for m in toasts(app) if "sess_" in m]

        clock.advance(seconds=6)  # charlie crosses 10 minutes left
        app.tick()
        await pilot.pause()
        assert left_text(pane, "sess_charlie") == "9m 59s"
        assert left_text(pane, "sess_bravo") == "8m 57s"
        raised = toasts(app)
        assert any("sess_charlie" in m and "less than 10 minutes" in m for m in raised)
        assert not any("sess_bravo" in m for m in raised)  # it was already under 10 min

        clock.advance(minutes=8, seconds=57)  # bravo expires
        app.tick()
        await pilot.pause()
        assert left_text(pane, "sess_bravo") == "expired 0s ago"
        raised = toasts(app)
        assert any("sess_bravo" in m and "expired" in m for m in raised)
        assert app.status_bar.counts == SessionCounts(active=2, expiring=1, expired=2, closed=0)
        # Ticking again does not repeat the toasts.
        count = len(toasts(app))
        app.tick()
        await pilot.pause()
        assert len(toasts(app)) == count


async def test_countdown_ticks_only_visible_rows(store, clock, make_app, settle):
    for i in range(120):
        store.create_session("agent-x", session_id=f"sess_{i:03d}", ttl=timedelta(hours=2))
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        visible = pane.visible_session_ids()
        assert 5 < len(visible) < 60
        hidden = next(s for s in pane.shown_ids if s not in visible)
        before_hidden = left_text(pane, hidden)
        clock.advance(minutes=1)
        app.tick()
        assert left_text(pane, visible[0]) == "1h 59m"
        assert left_text(pane, hidden) == before_hidden  # untouched until it scrolls in
        pane.table.move_cursor(row=pane.shown_ids.index(hidden))
        await pilot.pause()
        assert left_text(pane, hidden) == "1h 59m"


async def test_extend_adds_six_hours_then_any_amount(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        await select(pilot, pane, "sess_bravo")
        await pilot.press("e")
        await settle(pilot)
        assert left_text(pane, "sess_bravo") == "6h 9m"
        assert small_store.get_session("sess_bravo").expires_at == (
            app.clock() + timedelta(hours=6, minutes=9, seconds=3)
        )
        await pilot.press("E")
        await wait_for_screen(pilot, PromptScreen)
        prompt_input = app.screen.query_one("#prompt-input")
        prompt_input.value = "soon"
        await pilot.press("enter")
        await pilot.pause()
        # A bad amount is named, the dialog stays open with the text as typed.
        assert isinstance(app.screen, PromptScreen)
        assert "soon" in str(app.screen.query_one("#prompt-error").render())
        assert prompt_input.value == "soon"
        prompt_input.value = "30m"
        await pilot.press("enter")
        await settle(pilot)
        assert left_text(pane, "sess_bravo") == "6h 39m"


async def test_close_reopen_and_delete_with_confirmation(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        await select(pilot, pane, "sess_charlie")
        await pilot.press("c")
        await settle(pilot)
        assert small_store.get_session("sess_charlie").status == SessionStatus.CLOSED
        assert left_text(pane, "sess_charlie") == "closed"
        await pilot.press("o")
        await settle(pilot)
        assert small_store.get_session("sess_charlie").status == SessionStatus.ACTIVE

        await pilot.press("D")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("n")  # cancel: nothing happens
        await settle(pilot)
        assert "sess_charlie" in pane.shown_ids
        assert small_store.get_session("sess_charlie") is not None

        await pilot.press("delete")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "sess_charlie" not in pane.shown_ids
        assert all(s.id != "sess_charlie" for s in small_store.list_sessions())
        # The selection moved on, and the panes follow it.
        assert pane.selected_session is not None
        assert app.query_one("#timeline").session.id == pane.selected_session.id


async def test_new_session_validates_then_creates(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        screen = await wait_for_screen(pilot, NewSessionScreen)
        screen.query_one("#agent").value = "gemini"
        screen.query_one("#ttl").value = "45m"
        screen.query_one("#metadata").text = '{"task": "demo",'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # malformed JSON: not saved, text kept
        error = str(screen.query_one("#form-error").render())
        assert "line 1" in error and "column" in error
        assert screen.query_one("#metadata").text == '{"task": "demo",'
        screen.query_one("#metadata").text = '{"task": "demo"}'
        await pilot.press("ctrl+s")
        await settle(pilot)
        created = [s for s in small_store.list_sessions() if s.agent_id == "gemini"]
        assert len(created) == 1 and created[0].metadata == {"task": "demo"}
        assert app.session_list.selected_session.id == created[0].id
        assert left_text(app.session_list, created[0].id) == "45m 00s"


async def test_filters_by_agent_status_and_text(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        filter_input = pane.query_one("#session-filter")

        async def apply(text: str) -> None:
            await pilot.press("slash")
            filter_input.value = text
            await pilot.press("enter")
            await pilot.pause()

        await pilot.press("slash")
        await pilot.press(*"agent:codex")
        await pilot.pause()
        # Applied on Enter, like every filter in memtui (issue 9).
        assert len(pane.shown_ids) == 4
        await pilot.press("enter")
        await pilot.pause()
        assert set(pane.shown_ids) == {"sess_charlie", "sess_delta"}
        assert app.focused is pane.table
        await apply("status:expired")
        assert pane.shown_ids == ["sess_delta"]
        await apply("status:expiring")
        assert set(pane.shown_ids) == {"sess_bravo", "sess_charlie"}
        await apply("alph")
        assert pane.shown_ids == ["sess_alpha"]
        await apply("status:sleepy")
        assert "sleepy" in str(pane.query_one("#session-filter-error").render())
        assert pane.shown_ids == ["sess_alpha"]  # the last good filter still applies
        assert app.focused is filter_input  # the text stays, to be corrected
        await pilot.press("escape")
        assert app.focused is pane.table
