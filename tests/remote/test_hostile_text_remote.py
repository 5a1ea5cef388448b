"""The hostile corpus through a real `memtui serve` (issue 8 items 2-4): the remote TUI
(HttpBackend) gets every stored string over JSON and must show it exactly as the local
one does: every pane renders, nothing raw reaches the terminal, nothing is read as
markup, and copy keeps the exact context. The checks are the local test's."""

from __future__ import annotations

from typing import Any

from textual.worker import WorkerCancelled

from memtui.domain.clock import FileClock, ManualClock
from memtui.remote import HttpBackend
from tests.conftest import FROZEN_NOW
from tests.helpers.hostile import ISSUE_STRINGS, REFUSED_STRINGS
from tests.tui.conftest import _settle
from tests.tui.test_hostile_text import SIZE, fill, visit_every_pane

# Beside the issue's strings (the full corpus runs locally): 8-bit CSI, bidi override,
# a newline, a Textual variable, wide characters.
EXTRA = ["\x9b2J", "\u202eevil.exe", "line one\nline two", "[$var]", "日本語のメモ"]


async def settle(pilot: Any) -> None:
    for _ in range(20):
        try:
            await _settle(pilot)
            return
        except WorkerCancelled:  # an exclusive load replaced by a newer one
            continue
    await _settle(pilot)


async def test_the_corpus_through_a_server_shows_literally_in_every_pane(
    served_db: str, file_clock: FileClock
) -> None:
    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp
    from tests.helpers.live_server import start_live_server

    strings = [s for s in ISSUE_STRINGS if s not in REFUSED_STRINGS] + EXTRA
    store = SqlStore(served_db, clock=ManualClock(FROZEN_NOW))
    try:
        made = fill(store, ManualClock(FROZEN_NOW), strings)
    finally:
        store.close()
    server = start_live_server(served_db, clock_file=file_clock.path)
    try:
        backend = HttpBackend(server.url, api_key=server.api_key, clock=file_clock)
        app = MemtuiApp(backend, clock=file_clock, poll_interval=1.0)
        app.animation_level = "none"
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await visit_every_pane(app, pilot, settle, strings, made)
            assert app.is_running
    finally:
        server.stop()
