"""The real app, headless (App.run_test + Pilot), on an HttpBackend against a live
`memtui serve`: it shows the server's data, survives the server being killed and
restarted without losing an edit, and tells politely what a plain Memtrace server
lacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from memtui.domain.clock import FileClock, ManualClock
from memtui.domain.models import MemoryQuery
from memtui.remote import HttpBackend
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import SIZE, SMALL_SESSIONS, fill_small_store

SEEDED_KEY = "plan"
SEEDED_VALUE = {"step": 1, "todo": ["read", "write"]}


@pytest.fixture
def seeded_server(served_db: str, file_clock: FileClock) -> Iterator[Any]:
    """A memtui server over the TUI tests' small store, each session with one
    working-memory key."""
    from memtui.store import SqlStore
    from tests.helpers.live_server import start_live_server

    store = SqlStore(served_db, clock=ManualClock(FROZEN_NOW))
    try:
        fill_small_store(store, ManualClock(FROZEN_NOW))
        for session_id in SMALL_SESSIONS:
            store.set_working_memory(session_id, SEEDED_KEY, SEEDED_VALUE, importance=0.7)
    finally:
        store.close()
    server = start_live_server(served_db, clock_file=file_clock.path)
    try:
        yield server
    finally:
        server.stop()


def make_remote_app(backend: HttpBackend, clock: Any) -> Any:
    from memtui.tui.app import MemtuiApp

    app = MemtuiApp(backend, clock=clock, poll_interval=0.05)
    app.animation_level = "none"
    return app


async def wait_until(pilot: Any, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Let the app run until `predicate()` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await pilot.pause(0.05)


def toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_sessions_and_timeline_show_the_servers_data(
    seeded_server: Any, file_clock: FileClock
) -> None:
    from memtui.tui.widgets.timeline import TimelineView

    backend = HttpBackend(seeded_server.url, api_key=seeded_server.api_key, clock=file_clock)
    app = make_remote_app(backend, file_clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: len(app.session_list.shown_ids) == 4)
            assert set(app.session_list.shown_ids) == set(SMALL_SESSIONS)
            await wait_until(pilot, lambda: app.status_bar.state == "live")
            assert "key mtk_" in app.status_bar.backend_text
            assert seeded_server.api_key not in app.status_bar.backend_text

            selected = app.session_list.selected_session
            assert selected is not None
            expected = backend.list_memories(MemoryQuery(session_id=selected.id, limit=100))
            view = app.query_one(TimelineView)
            await wait_until(pilot, lambda: view.total == len(expected.memories))
            if expected.memories:
                # Pages arrive from the server in a worker.
                await wait_until(pilot, lambda: view.memory_at(0) is not None)
                shown = [view.memory_at(i) for i in range(view.total)]
                shown_ids = {m.id for m in shown if m is not None}
                assert shown_ids and shown_ids <= {m.id for m in expected.memories}
    finally:
        backend.close()


async def test_server_killed_mid_session_ui_recovers_and_the_edit_is_kept(
    seeded_server: Any, file_clock: FileClock
) -> None:
    from memtui.tui.widgets.working_memory import WorkingMemoryPane

    backend = HttpBackend(seeded_server.url, api_key=seeded_server.api_key, clock=file_clock)
    app = make_remote_app(backend, file_clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.status_bar.state == "live")
            await pilot.press("2")
            pane = app.query_one(WorkingMemoryPane)
            await wait_until(pilot, lambda: pane.loaded_key == SEEDED_KEY)
            session_id = pane.session.id

            seeded_server.kill()

            # The user edits while the server is gone, and tries to save.
            edited = '{"step": 2, "todo": ["write"]}'
            pane.editor.focus()
            pane.editor.clear()
            pane.editor.insert(edited)
            await pilot.pause()
            assert pane.is_dirty
            await pilot.press("ctrl+s")

            # The UI says the server is unreachable: a few words in the status line, the
            # full message above the (dimmed) session list and in a toast…
            await wait_until(pilot, lambda: app.status_bar.state == "error")
            assert app.status_bar.detail == "server unreachable"
            assert "cannot reach the memtui server" in (app.session_list.stale_reason or "")
            await wait_until(
                pilot, lambda: any("cannot reach the memtui server" in t for t in toasts(app))
            )
            await wait_until(pilot, lambda: any("your edits are kept" in t for t in toasts(app)))
            # …and the edit is still there, unsaved.
            assert pane.editor.text == edited
            assert pane.is_dirty

            seeded_server.start()

            # The UI recovers by itself…
            await wait_until(pilot, lambda: app.status_bar.state == "live", timeout=20)
            assert app.session_list.stale_reason is None  # live again, not dimmed
            assert pane.editor.text == edited
            # …and the kept edit saves.
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not pane.is_dirty)
    finally:
        backend.close()

    check = HttpBackend(seeded_server.url, api_key=seeded_server.api_key)
    try:
        item = check.get_working_memory(session_id, SEEDED_KEY)
    finally:
        check.close()
    assert item.value == {"step": 2, "todo": ["write"]}
    assert item.version == 2


async def test_plain_memtrace_working_memory_pane_says_it_is_unavailable(
    plain_server: Any,
) -> None:
    from memtui.tui.widgets.working_memory import WorkingMemoryPane

    backend = HttpBackend(plain_server.url, api_key=plain_server.api_key)
    backend.create_session("plain-tui", metadata={"task": "look around"})
    clock = ManualClock(FROZEN_NOW)
    app = make_remote_app(backend, clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.session_list.shown_ids)
            # No event stream: the app polls with full refreshes instead.
            await wait_until(pilot, lambda: app.status_bar.state == "polling")
            await pilot.press("2")
            pane = app.query_one(WorkingMemoryPane)
            await wait_until(pilot, lambda: "no working memory" in _pane_text(pane))
            assert "plain Memtrace" in _pane_text(pane)
    finally:
        backend.close()


def _pane_text(pane: Any) -> str:
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in pane.query(Static))
