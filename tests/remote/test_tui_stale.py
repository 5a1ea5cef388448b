"""Issue 9 item 5: a rejected key or an unreachable server never looks live.

The app starts from the cached session list (as a user's second start does) against a
real `memtui serve` with a wrong key, and against a port nobody listens on: the rows
stay, dimmed, under a line that says how old they are and what is wrong in full; the
countdowns stop; the status line says it in a few words; the toast is raised once,
not again on every retry."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from memtui.connect import BackendTarget
from memtui.domain.clock import ManualClock
from memtui.store import SqlStore
from memtui.tui.session_cache import cache_file, write_cached_sessions
from tests.conftest import FROZEN_NOW
from tests.helpers.live_server import free_port
from tests.remote.test_tui_remote import wait_until
from tests.tui.conftest import SIZE, fill_small_store


def cached_small_list(tmp_path: Any, cache_key: str) -> None:
    """The small store's sessions in the list cache, written two minutes ago."""
    clock = ManualClock(FROZEN_NOW)
    store = SqlStore(f"sqlite:///{tmp_path / 'elsewhere.db'}", clock=clock)
    try:
        fill_small_store(store, clock)
        write_cached_sessions(cache_key, store.list_sessions())
    finally:
        store.close()
    written = (FROZEN_NOW - timedelta(minutes=2)).timestamp()
    os.utime(cache_file(cache_key), (written, written))


def make_target_app(target: BackendTarget, clock: ManualClock) -> Any:
    from memtui.tui.app import MemtuiApp

    app = MemtuiApp(target=target, clock=clock, poll_interval=0.05)
    app.animation_level = "none"
    raised: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> None:
        raised.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    app.raised = raised  # type: ignore[attr-defined]
    return app


async def assert_plainly_stale(app: Any, pilot: Any, clock: ManualClock, short: str) -> None:
    session_list = app.session_list
    await wait_until(pilot, lambda: session_list.has_class("-stale"))
    # Retries go on (with backoff); the problem is said once all the same.
    await wait_until(pilot, lambda: app._poll_failures >= 2, timeout=30)
    reason = session_list.stale_reason
    assert reason
    notice = str(session_list.query_one("#session-list-notice").render())
    assert notice.startswith("Cached list from ") and "(2 min ago)" in notice
    assert "countdowns paused" in notice
    assert reason in notice  # in full
    assert sum(reason in toast for toast in app.raised) == 1, app.raised
    status = app.status_bar.render().plain
    assert f"✖ {short}" in status and "live" not in status
    # The countdowns no longer tick as if they were live.
    before = str(session_list.table.get_cell("sess_alpha", "left"))
    clock.advance(minutes=5)
    app.tick()
    await pilot.pause()
    assert str(session_list.table.get_cell("sess_alpha", "left")) == before
    assert "(7 min ago)" in str(session_list.query_one("#session-list-notice").render())


async def test_a_rejected_key_marks_the_cached_list_stale(shared_server: Any, tmp_path) -> None:
    target = BackendTarget(server_url=shared_server.url, api_key="mtk_wrongwrongwrongwrong")
    cached_small_list(tmp_path, target.server_url)
    clock = ManualClock(FROZEN_NOW)
    app = make_target_app(target, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.session_list.shown_ids) == 4)
        await assert_plainly_stale(app, pilot, clock, "API key rejected")


async def test_an_unreachable_server_marks_the_cached_list_stale(tmp_path) -> None:
    target = BackendTarget(server_url=f"http://127.0.0.1:{free_port()}", api_key="mtk_x")
    cached_small_list(tmp_path, target.server_url)
    clock = ManualClock(FROZEN_NOW)
    app = make_target_app(target, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.session_list.shown_ids) == 4)
        await assert_plainly_stale(app, pilot, clock, "server unreachable")
