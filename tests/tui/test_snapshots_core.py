"""Snapshots of the whole app, the session list and the timeline on demo data, at a
fixed terminal size with the clock frozen (FROZEN_NOW) and local time in UTC."""

from __future__ import annotations

from tests.tui.conftest import SIZE

SESSION = "sess_demo_ticket_4821"  # memories of several types, errors, tags


def prepare(tab: str, focus_pane: bool):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()
        pane = app.session_list
        pane.table.move_cursor(row=pane.shown_ids.index(SESSION))
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.action_show_tab(tab, focus_pane)
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


def test_whole_app_wide(snap_compare, demo_store, make_app):
    app = make_app(demo_store, poll_interval=3600)
    assert snap_compare(app, terminal_size=(170, 46), run_before=prepare("timeline", False))


def test_session_list(snap_compare, demo_store, make_app):
    app = make_app(demo_store, poll_interval=3600)
    assert snap_compare(app, terminal_size=SIZE, run_before=prepare("timeline", False))


def test_timeline(snap_compare, demo_store, make_app):
    app = make_app(demo_store, poll_interval=3600)
    assert snap_compare(app, terminal_size=SIZE, run_before=prepare("timeline", True))
