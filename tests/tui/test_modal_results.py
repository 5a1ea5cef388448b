"""Issue 9 item 8: a modal's result is never lost to a refresh.

A save-to-file dialog was seen to close with no file and no toast just as a session
expired. Dialog callbacks are requested by the app itself (never by a widget a refresh
could replace), so the answer arrives however the panes reload meanwhile; this pins it
with the real race: the selected session expires, the live change feed reports it and
every pane reloads while the dialog is open, and only then does the user press Enter.
"""

from __future__ import annotations

from memtui.tui.screens.prompt import PromptScreen
from tests.tui.conftest import LIVE_POLL, SIZE, toasts, wait_for_screen, wait_until


async def test_save_to_file_survives_the_session_expiring_under_the_dialog(
    small_store, clock, make_app, settle, tmp_path
):
    app = make_app(small_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_list = app.session_list
        session_list.table.move_cursor(row=session_list.shown_ids.index("sess_bravo"))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        pane = app.query_one("#context-preview")
        await wait_until(pilot, lambda: pane._result is not None, what="the preview")
        pane.focus()
        await pilot.press("s")
        prompt = await wait_for_screen(pilot, PromptScreen)
        target = tmp_path / "bravo-context.md"
        prompt.query_one("#prompt-input").value = str(target)

        # sess_bravo (9m 03s left) expires while the dialog is open.
        clock.advance(minutes=10)
        app.tick()
        app.broadcast_changes([], full_refresh=True)
        await settle(pilot)
        assert app.screen is prompt  # still there, still holding the path

        await pilot.press("enter")
        await wait_until(pilot, target.exists, what="the file")
        await wait_until(pilot, lambda: any(t.startswith("Saved ") for t in toasts(app)))
        assert target.read_text(encoding="utf-8") == pane._result.context
        app.tick()  # the expiry's toast, held back while the dialog covered the list
        await pilot.pause()
        assert any("sess_bravo" in t and "expired" in t for t in toasts(app))
