"""Late callbacks: timers, messages and worker results that arrive while the app shuts
down or after it has gone are dropped, never a `NoMatches` crash."""

from __future__ import annotations

import threading
from typing import Any

from memtui.domain.errors import BackendUnavailableError
from memtui.tui.widgets.session_list import SessionCounts, SessionListPane
from memtui.tui.widgets.timeline import TimelinePane
from memtui.tui.workers import deliver_from_thread, is_alive
from tests.tui.conftest import SIZE, wait_until


async def test_timer_and_message_callbacks_after_shutdown_do_nothing(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_list = app.session_list
        assert is_alive(app) and is_alive(session_list)
    # Everything below used to raise NoMatches ('SessionTable', 'StatusBar') when a
    # timer or message got in during or after shutdown.
    assert not is_alive(app) and not is_alive(session_list)
    app.tick()
    app._poll()
    app._counts_changed(SessionListPane.CountsChanged(SessionCounts()))
    app.report_backend_error(BackendUnavailableError("gone"))
    app.mark_backend_ok()
    app._open_failed("late")
    assert app.fatal_error is None  # the late failure changed nothing


async def test_a_tick_while_the_screen_is_being_pruned_is_skipped(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_list = app.session_list
        table = session_list.table
        # What App._shutdown does first: stop running, then prune children first.
        app._running = False
        try:
            await table.remove()
            app.tick()
            session_list.tick(app.clock())
            session_list.refresh_visible_countdowns()  # from a scroll
        except Exception as error:  # pragma: no cover - the failure being tested
            raise AssertionError(f"tick during shutdown raised {error!r}") from error
        finally:
            app._running = True


class GatedStore:
    """The real store; `count_memories` waits until the test opens the gate."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.finished = threading.Event()

    def count_memories(self, *args: Any, **kwargs: Any) -> int:
        self.entered.set()
        self.gate.wait(30)
        try:
            return self._store.count_memories(*args, **kwargs)
        finally:
            self.finished.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_a_worker_finishing_after_the_app_exits_is_dropped(small_store, make_app, settle):
    backend = GatedStore(small_store)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, backend.entered.is_set, what="the timeline to start counting")
        pane = app.query_one(TimelinePane)
        assert pane.view.total == 0 or pane.view.is_provisional
    # The app has exited with the timeline's worker still inside the store.
    backend.gate.set()
    assert backend.finished.wait(10)
    delivered: list[int] = []
    deliver_from_thread(pane, delivered.append, 1)  # the same path the worker takes
    assert delivered == []
    assert not app._exception  # nothing was raised into the (gone) app
