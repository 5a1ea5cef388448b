"""What an agent writes over MCP appears in the TUI live: the real app (headless) on a
SQLite file, a real `memtui mcp` subprocess on the same file, the official MCP client.
The write goes through the Backend, so the change feed carries it to the app."""

from __future__ import annotations

from memtui.tui.widgets.timeline import TimelineView
from tests.helpers.mcp_server import call, stdio_client_for
from tests.tui.conftest import LIVE_POLL, SIZE, SMALL_MEMORY_COUNT


async def test_a_memory_and_a_session_written_over_mcp_appear_live(
    small_store, sqlite_url, make_app, settle
):
    app = make_app(small_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        view = app.query_one(TimelineView)
        assert view.total == SMALL_MEMORY_COUNT
        sessions_before = len(app.session_list.shown_ids)

        async with stdio_client_for(sqlite_url, client_name="claude-code") as (client, _):
            written = await call(
                client,
                "memory_remember",
                {
                    "content": "written by an agent over MCP \x1b]0;T\x07",
                    "session_id": "sess_alpha",
                },
            )
            assert not written.is_error, written.text
            started = await call(client, "memory_session_start")
            assert not started.is_error, started.text

        for _ in range(100):  # the change feed is polled every 50 ms here
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if view.total == SMALL_MEMORY_COUNT + 1 and (
                len(app.session_list.shown_ids) == sessions_before + 1
            ):
                break
        assert view.total == SMALL_MEMORY_COUNT + 1
        assert view.current is not None
        assert view.current.content == "written by an agent over MCP \x1b]0;T\x07"
        assert started.data["session"]["id"] in app.session_list.shown_ids
