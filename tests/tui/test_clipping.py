"""Issue 9 item 7: nothing that matters is cut off while there is room, read from the
painted screen (the compositor's strips), at 80×24 and at 120×40."""

from __future__ import annotations

from typing import Any

from memtui.domain.models import NewMemory
from memtui.tui.widgets.working_memory import WorkingMemoryPane
from tests.tui.conftest import wait_until


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def region_text(app: Any, widget: Any) -> str:
    strips = app.screen._compositor.render_strips()
    region = widget.region
    return "\n".join(
        strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)
    )


async def test_80_columns_keep_footer_keys_counts_and_live_state(small_store, make_app, settle):
    app = make_app(small_store)
    app.backend_label = "sqlite:////home/somebody/.local/share/memtui/memtui.db"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        status, footer = lines[-2], lines[-1]
        for key in ("/ Filter", "q Quit", "f1 Help", "1-5 Tabs"):
            assert key in footer, (key, footer)
        for part in ("3 active (2 expiring)", "1 expired", "0 closed", "● live"):
            assert part in status, (part, status)
        assert "memtui.db" in status  # the file's name stays; its directory is cut


async def test_labels_are_whole_when_there_is_room(store, clock, make_app, settle):
    store.create_session("code-assistant", session_id="sess_labels")
    store.add_memories(
        [
            NewMemory(
                agent_id="code-assistant",
                session_id="sess_labels",
                content="auth/refresh.py has no tests for expired tokens",
                memory_type="observation",
                event_type="pre_compact",
                time=clock.now,
            )
        ]
    )
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        text = screen_text(app)
        assert "code-assistant " in text  # the session list's agent column
        row = region_text(app, app.query_one("#timeline-view")).splitlines()[0]
        assert "observation" in row and "pre_compact" in row, row
        assert "auth/refresh.py has no tests for expired tokens" in row, row


async def test_working_memory_header_and_error_line_are_whole(small_store, make_app, settle):
    small_store.set_working_memory("sess_alpha", "current_plan", {"step": 1})
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        pane = app.query_one(WorkingMemoryPane)
        await wait_until(pilot, lambda: pane.loaded_key == "current_plan")
        pane.editor.focus()
        pane.editor.load_text('{"step" 2}')
        await pilot.pause()
        title = region_text(app, pane.query_one("#wm-title"))
        assert "● modified" in title, title
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = " ".join(region_text(app, pane.query_one("#wm-status")).split())
        assert "Not saved: invalid JSON at line 1, column 9" in status, status
        bar = region_text(app, pane.query_one("#wm-statusbar"))
        assert "Ln 1, Col 9" in bar
