"""Fixtures for the TUI tests (shared by every tests/tui/ module; keep them stable).

- `store`: an empty real SQLite store on a fresh file, on the frozen `clock`.
- `demo_store`: the same, filled by `memtui.demo.populate_demo` at the frozen time
  (built once per test session, then the file is copied for each test).
- `small_store`: a tiny hand-made store whose every value a test can name (see below).
- `make_app(backend, **kwargs)`: a `MemtuiApp` with the frozen clock and animations
  off. The change feed is polled every second as in real use; tests of live updates
  pass `poll_interval=LIVE_POLL` (polling every 50 ms in every test costs ~20 %).
  Run it with `async with app.run_test(size=SIZE) as pilot`.
- `settle(pilot)`: wait until workers are done and the screen has caught up (until two
  rounds in a row start no new worker).
- `toasts(app)`: every notification the app raised, in order. `app._notifications`
  drops toasts once their timeout has passed, which a slow machine can reach before
  the test looks.
- `wait_for_screen(pilot, ScreenType)`: wait until a pushed screen is mounted and has
  focused its first field, so keys typed next reach it (not the screen below).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from memtui.domain.clock import ManualClock
from memtui.domain.models import NewMemory

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp

SIZE = (120, 40)
LIVE_POLL = 0.05  # seconds: the change-feed poll of tests about live updates

# small_store: two agents, four sessions at known distances from expiry.
SMALL_SESSIONS = {
    # id: (agent, ttl from FROZEN_NOW)
    "sess_alpha": ("claude", timedelta(hours=5, minutes=12)),
    "sess_bravo": ("claude", timedelta(minutes=9, seconds=3)),
    "sess_charlie": ("codex", timedelta(minutes=10, seconds=5)),
    "sess_delta": ("codex", -timedelta(minutes=3)),
}
SMALL_MEMORY_COUNT = 30  # in sess_alpha; 5 more in sess_bravo


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is shown in the UI; pin it so snapshots match on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(sqlite_url: str, clock: ManualClock) -> Iterator[SqlStore]:
    from memtui.store import SqlStore

    backend = SqlStore(sqlite_url, clock=clock)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data in a SQLite file, built once (populate_demo takes ~150 ms)."""
    from memtui.demo import populate_demo
    from memtui.store import SqlStore
    from tests.conftest import FROZEN_NOW

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    clock = ManualClock(FROZEN_NOW)
    template = SqlStore(f"sqlite:///{path}", clock=clock)
    populate_demo(template, now=clock.now)
    template.close()  # checkpoints the WAL: the one file holds everything
    return path


@pytest.fixture
def demo_store(demo_template: Path, sqlite_url: str, clock: ManualClock) -> Iterator[SqlStore]:
    from memtui.store import SqlStore

    shutil.copyfile(demo_template, sqlite_url.removeprefix("sqlite:///"))
    backend = SqlStore(sqlite_url, clock=clock)
    yield backend
    backend.close()


def fill_small_store(store: Any, clock: ManualClock) -> None:
    start = clock.now
    for session_id, (agent, left) in SMALL_SESSIONS.items():
        # Created "in the past" so that expires_at = now + left.
        clock.now = start - timedelta(hours=6) + left
        store.create_session(
            agent,
            session_id=session_id,
            ttl=timedelta(hours=6),
            workspace_id="memtui" if agent == "claude" else None,
        )
    clock.now = start
    types = ["episodic", "decision", "entity", "session", "episodic"]
    memories = [
        NewMemory(
            agent_id="claude",
            session_id="sess_alpha",
            content=f"alpha memory {i:02d}" + (" about auth" if i % 3 == 0 else ""),
            memory_type=types[i % len(types)],
            event_type="error" if i == 7 else "general",
            tags=["auth"] if i % 3 == 0 else [],
            importance=round((i % 10) / 10, 1),
            time=start - timedelta(minutes=SMALL_MEMORY_COUNT - i),
            id=f"mem_alpha_{i:02d}",
        )
        for i in range(SMALL_MEMORY_COUNT)
    ]
    memories += [
        NewMemory(
            agent_id="claude",
            session_id="sess_bravo",
            content=f"bravo memory {i}",
            time=start - timedelta(hours=2, minutes=i),
            id=f"mem_bravo_{i}",
        )
        for i in range(5)
    ]
    store.add_memories(memories)


@pytest.fixture
def small_store(store: SqlStore, clock: ManualClock) -> SqlStore:
    fill_small_store(store, clock)
    return store


@pytest.fixture
def make_app(clock: ManualClock) -> Callable[..., MemtuiApp]:
    def factory(backend: Any = None, **kwargs: Any) -> MemtuiApp:
        from memtui.tui.app import MemtuiApp

        kwargs.setdefault("poll_interval", 1.0)
        kwargs.setdefault("clock", clock)
        app = MemtuiApp(backend, **kwargs)
        app.animation_level = "none"
        _record_toasts(app)
        # The store's file lives in a fresh tmp dir; keep the status line stable.
        app.backend_label = "sqlite:///store.db"
        return app

    return factory


def _record_toasts(app: Any) -> None:
    raised: list[str] = []
    notify = app.notify  # widgets' notify() calls app.notify

    def recording_notify(message: str, *args: Any, **kwargs: Any) -> None:
        raised.append(message)
        notify(message, *args, **kwargs)

    app.notify = recording_notify
    app.raised_toasts = raised


def toasts(app: Any) -> list[str]:
    """Every toast message `app` raised so far (expired ones too)."""
    return list(app.raised_toasts)


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], bool], *, timeout: float = 30.0, what: str = ""
) -> None:
    """Wait for `condition()` without fixed sleeps (the app's tasks run meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        await asyncio.sleep(0.005)


async def wait_for_screen(pilot: Pilot[Any], screen_type: type) -> Any:
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        return (
            isinstance(screen, screen_type)
            and screen.is_mounted
            and (screen.focused is not None or not screen.focus_chain)
        )

    await wait_until(pilot, ready, what=f"{screen_type.__name__} to be ready")
    return app.screen


async def _settle(pilot: Pilot[Any], rounds: int = 2, *, max_rounds: int = 20) -> None:
    """Wait for workers and the screen until `rounds` rounds in a row start no new
    worker (a result may start the next load: open → connect → list → panes)."""
    from textual.worker import WorkerCancelled, WorkerState

    app = pilot.app
    quiet = 0
    for _ in range(max_rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            # An exclusive load replaced by a newer one while waited for: not an error;
            # the newer one is waited for in the next round.
            quiet = 0
            await pilot.pause()
            continue
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= rounds:
            return


@pytest.fixture
def settle() -> Callable[..., Awaitable[None]]:
    return _settle


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
