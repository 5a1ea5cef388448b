"""The app shell: startup, status line, bindings, help, palette, theme, live updates."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from memtui.config import config_path
from memtui.connect import BackendTarget
from memtui.domain.models import Capability
from memtui.tui.screens.help import HelpScreen
from memtui.tui.widgets.session_list import SessionCounts
from memtui.tui.widgets.timeline import TimelinePane, TimelineView
from tests.tui.conftest import (
    LIVE_POLL,
    SIZE,
    SMALL_MEMORY_COUNT,
    toasts,
    wait_for_screen,
    wait_until,
)


async def test_starts_lists_sessions_and_counts_them(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert set(app.session_list.shown_ids) == {
            "sess_alpha",
            "sess_bravo",
            "sess_charlie",
            "sess_delta",
        }
        assert app.status_bar.counts == SessionCounts(active=3, expiring=2, expired=1, closed=0)
        assert app.status_bar.state == "live"
        assert app.capabilities >= {Capability.EVENTS, Capability.MEMORY_IDS}
        # The first session is selected and every pane was told.
        selected = app.session_list.selected_session
        assert selected is not None
        for pane in app.session_panes():
            assert pane.session is not None and pane.session.id == selected.id


async def test_tabs_switch_with_number_keys(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tabs = app.query_one("#tabs")
        for key, tab in (
            ("2", "working-memory"),
            ("3", "context"),
            ("4", "snapshots"),
            ("5", "briefing"),
            ("1", "timeline"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == f"tab-{tab}"
        # `1` also moved focus into the timeline.
        assert isinstance(app.focused, TimelineView)


async def test_f1_opens_help_for_the_focused_pane(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        assert "Sessions" in app.screen.markdown and "extend" in app.screen.markdown
        await pilot.press("escape")
        await pilot.press("1")  # focus the timeline
        await pilot.pause()
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        assert app.screen.markdown.startswith(TimelinePane.HELP)


async def test_palette_offers_app_and_pane_actions(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for expected in (
            "Quit",
            "Theme",
            "Help",
            "Reload",
            "Go to: Context",
            "Session: new",
            "Session: extend +6h",
            "Session: delete",
            "Timeline: delete memories",
            "Timeline: filter",
        ):
            assert expected in titles
        # Each visible pane contributes its own commands.
        await pilot.press("2")
        await pilot.pause()
        pane_titles = {c.title for c in app.active_pane().palette_commands()}
        assert pane_titles <= {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("ctrl+p")
        await pilot.pause()
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)


async def test_theme_choice_persists(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await pilot.pause()
    assert json.loads(config_path().read_text())["theme"] == "nord"
    again = make_app(small_store)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_q_quits(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_memory_written_by_another_process_appears(small_store, sqlite_url, make_app, settle):
    app = make_app(small_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        view = app.query_one(TimelineView)
        assert view.total == SMALL_MEMORY_COUNT
        cursor_before = view.cursor
        writer = textwrap.dedent(
            f"""
            from memtui.store import SqlStore
            from memtui.domain.models import NewMemory
            store = SqlStore({sqlite_url!r})
            store.add_memories([NewMemory(agent_id="claude", session_id="sess_alpha",
                                          content="written by another process")])
            store.close()
            """
        )
        subprocess.run([sys.executable, "-c", writer], check=True, timeout=60)
        for _ in range(60):  # the change feed is polled every 50 ms here
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if view.total == SMALL_MEMORY_COUNT + 1:
                break
        assert view.total == SMALL_MEMORY_COUNT + 1
        # The cursor was on the newest memory, so it follows the new one.
        assert view.cursor == cursor_before + 1
        assert view.current is not None
        assert view.current.content == "written by another process"


async def test_live_update_keeps_the_cursor_where_the_user_put_it(small_store, make_app, settle):
    from memtui.domain.models import NewMemory

    app = make_app(small_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1", "home", "down", "down")
        view = app.query_one(TimelineView)
        assert view.cursor == 2
        small_store.add_memories(
            [NewMemory(agent_id="claude", session_id="sess_alpha", content="a new one")]
        )
        for _ in range(40):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if view.total == SMALL_MEMORY_COUNT + 1:
                break
        assert view.total == SMALL_MEMORY_COUNT + 1
        assert view.cursor == 2 and view.scroll_y == 0


async def test_opens_from_a_target_in_a_worker_and_caches_the_list(
    small_store, sqlite_url, make_app, settle, monkeypatch
):
    app = make_app(target=BackendTarget(db_url=sqlite_url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=4)
        assert app.backend is not None
        assert len(app.session_list.shown_ids) == 4
    # Where the file cannot be read directly (a server; see test_fastpath.py for
    # files), the next start paints the cached list before the store is open.
    import memtui.tui.session_cache
    from memtui.tui.app import MemtuiApp

    monkeypatch.setattr(memtui.tui.session_cache, "read_store_sessions", lambda *_: None)
    when_opening: list[tuple[int, str]] = []
    open_target = MemtuiApp._open_target

    def spy(self, target):  # type: ignore[no-untyped-def]
        when_opening.append((len(self.session_list.shown_ids), self.status_bar.state))
        open_target(self, target)

    monkeypatch.setattr(MemtuiApp, "_open_target", spy)
    again = make_app(target=BackendTarget(db_url=sqlite_url))
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(when_opening), what="the store to open")
        assert when_opening == [(4, "cached")]
        await settle(pilot, rounds=4)
        assert not again.session_list.from_cache


async def test_a_bad_db_url_is_a_clear_message_not_a_traceback(make_app, settle, tmp_path):
    app = make_app(target=BackendTarget(db_url="nosuchdriver://what"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=4)
        assert app.fatal_error is not None
        assert "Cannot open the store" in app.fatal_error
        assert app.status_bar.state == "error"
        messages = toasts(app)
        assert any("Cannot open the store" in m for m in messages)
        assert "Traceback" not in app.fatal_error


async def test_a_corrupt_database_file_is_a_clear_message(make_app, settle, tmp_path):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database" * 200)
    app = make_app(target=BackendTarget(db_url=f"sqlite:///{bad}"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=4)
        assert app.fatal_error is not None and "Cannot open the store" in app.fatal_error


def test_version_and_help_do_not_import_the_app():
    code = (
        "import sys, contextlib, io\n"
        "from memtui.cli import main\n"
        "for argv in (['--version'], ['--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('textual', 'sqlmodel', "
        "'memtui.tui'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def _unused(*_: Any) -> None:  # keeps type checkers quiet about fixtures-only imports
    return None
