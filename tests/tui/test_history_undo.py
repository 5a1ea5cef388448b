"""History (h), undo (z) and the trash (Z) in the real app, on a real SQLite file."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from memtui.domain.actor import acting_as
from memtui.domain.errors import NotFoundError
from memtui.domain.models import MemoryPatch, MemoryQuery
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.history import HistoryScreen, TrashScreen, revision_text
from tests.tui.conftest import SIZE, toasts, wait_for_screen, wait_until
from tests.tui.test_timeline import open_timeline


async def test_h_shows_the_memorys_history_with_a_word_diff(small_store, make_app, settle):
    with acting_as("mcp:claude-code"):
        small_store.update_memory(
            "mem_alpha_29", MemoryPatch(content="alpha recollection 29 about tokens", tags=["x"])
        )
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        _pane, view = await open_timeline(pilot, settle)
        assert view.current is not None and view.current.id == "mem_alpha_29"
        await pilot.press("h")
        screen = await wait_for_screen(pilot, HistoryScreen)
        await wait_until(pilot, lambda: screen.revisions is not None, what="the history")
        assert [r.action for r in screen.revisions] == ["created", "updated"]
        body = str(screen.query_one("#history-body", Static).render())
        assert "updated  by mcp:claude-code" in body
        assert "tokens" in body and "tags[0]" in body
        text = revision_text(screen.revisions[1])
        struck = [span for span in text.spans if "strike" in str(span.style)]
        assert struck, "removed words are struck out"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HistoryScreen)


async def test_z_undoes_deletes_newest_first_and_says_what(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        _pane, view = await open_timeline(pilot, settle)
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("home", "d")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        for gone in ("mem_alpha_29", "mem_alpha_00"):
            try:
                small_store.get_memory(gone)
                raise AssertionError(f"{gone} still there")
            except NotFoundError:
                pass
        assert small_store.count_memories(MemoryQuery(session_id="sess_alpha")) == 28

        await pilot.press("z")
        await settle(pilot)
        assert small_store.get_memory("mem_alpha_00").content.startswith("alpha memory 00")
        assert any("Undid" in t and "mem_alpha_00" in t for t in toasts(app))
        await pilot.press("z")
        await settle(pilot)
        assert small_store.get_memory("mem_alpha_29").id == "mem_alpha_29"
        assert any("Undid" in t and "mem_alpha_29" in t for t in toasts(app))
        await pilot.press("z")
        await settle(pilot)
        assert any("Nothing to undo" in t for t in toasts(app))
        assert small_store.count_memories(MemoryQuery(session_id="sess_alpha")) == 30


async def test_the_trash_view_restores(small_store, make_app, settle):
    small_store.delete_memories(["mem_alpha_03"])  # deleted elsewhere: not undone by z
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_timeline(pilot, settle)
        await pilot.press("Z")
        screen = await wait_for_screen(pilot, TrashScreen)
        table = screen.query_one("#trash-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1, what="the trash")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.items, what="the restore")
        assert small_store.get_memory("mem_alpha_03").id == "mem_alpha_03"
        assert small_store.list_trash() == []
