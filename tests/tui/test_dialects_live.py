"""What agents write through `memtui serve`'s three dialects (Memanto, MemoryLayer,
ZeroMemory) appears in the TUI live: the real app (headless) on a SQLite file, a real
`memtui serve` on the same file, raw HTTP as each system's clients send it. Stored text
is shown as text (the markup-looking and escape-holding values change nothing)."""

from __future__ import annotations

from pathlib import Path

import httpx

from memtui.domain.clock import FileClock
from memtui.tui.widgets.snapshots import SnapshotsPane
from memtui.tui.widgets.timeline import TimelineView
from memtui.tui.widgets.working_memory import WorkingMemoryPane
from tests.conftest import FROZEN_NOW
from tests.helpers.live_server import start_live_server
from tests.tui.conftest import LIVE_POLL, SIZE

MEMANTO_TEXT = "[b]remembered via Memanto[/b] \x1b]0;TITLE\x07"
WM_VALUE = {"plan": "[red]via MemoryLayer[/red]"}
TASK = "[@click=app.quit]open task via ZeroMemory"


async def _select(app, pilot, settle, session_id: str) -> None:  # type: ignore[no-untyped-def]
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(session_id))
    await settle(pilot)
    assert app.selected_session is not None and app.selected_session.id == session_id


async def test_each_dialects_writes_appear_live(  # type: ignore[no-untyped-def]
    small_store, sqlite_url, make_app, settle, tmp_path: Path
):
    clock = FileClock(str(tmp_path / "clock.txt"))
    clock.set(FROZEN_NOW)  # the app's frozen clock, so nothing looks expired
    app = make_app(small_store, poll_interval=LIVE_POLL)
    with start_live_server(sqlite_url, clock_file=clock.path) as server:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            bearer = {"Authorization": f"Bearer {server.api_key}"}
            with httpx.Client(base_url=server.url, timeout=10) as http:
                activated = http.post("/api/v2/agents/tui-memanto/activate", headers=bearer)
                token = activated.json()["session_token"]
                remembered = http.post(
                    "/api/v2/agents/tui-memanto/remember",
                    json={"content": MEMANTO_TEXT, "type": "decision"},
                    headers={**bearer, "X-Session-Token": token},
                )
                assert remembered.status_code == 200, remembered.text
                started = http.post(
                    "/v1/sessions", json={"workspace_id": "tui-memorylayer"}, headers=bearer
                )
                ml_session = started.json()["session"]["id"]
                http.post(
                    f"/v1/sessions/{ml_session}/memory",
                    json={"key": "task", "value": WM_VALUE},
                    headers=bearer,
                )
                saved = http.post(
                    "/api/v1/public/memory/v2/session",
                    json={"session_id": "tui-zero", "open_tasks": [TASK], "event": "pre_compact"},
                    headers={"x-api-key": server.api_key},
                )
                assert saved.status_code == 201, saved.text
            memanto_session = activated.json()["session_id"]
            wanted = {memanto_session, ml_session, "tui-zero"}
            for _ in range(200):  # the change feed is polled every 50 ms here
                await pilot.pause(0.05)
                await settle(pilot)  # (a load replaced by a newer one is not an error)
                if wanted <= set(app.session_list.shown_ids):
                    break
            assert wanted <= set(app.session_list.shown_ids)

            # Memanto: the memory in its session's timeline, exactly as written; the
            # session shows it has a token (its metadata), never the token.
            await _select(app, pilot, settle, memanto_session)
            await pilot.press("1")
            await settle(pilot)
            view = app.query_one(TimelineView)
            assert view.total == 1
            assert view.current is not None and view.current.content == MEMANTO_TEXT
            assert app.selected_session.metadata["memanto"]["session_token"] == "issued"
            assert token not in str(app.selected_session.metadata)

            # MemoryLayer: the working-memory key, version 1, in the working-memory pane.
            await _select(app, pilot, settle, ml_session)
            await pilot.press("2")
            await settle(pilot)
            pane = app.query_one(WorkingMemoryPane)
            table = pane.keys_table
            assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["task"]
            assert pane.loaded_key == "task"

            # ZeroMemory: the snapshot with its open task in the snapshots pane.
            await _select(app, pilot, settle, "tui-zero")
            await pilot.press("4")
            await settle(pilot)
            snapshots = app.query_one(SnapshotsPane)
            for _ in range(40):
                if snapshots.snapshot_ids:
                    break
                await pilot.pause(0.05)
                await settle(pilot)
            [snapshot_id] = snapshots.snapshot_ids
            assert snapshots.selected_snapshot is not None
            assert snapshots.selected_snapshot.open_tasks == [TASK]
            assert app.is_running  # the [@click=app.quit] text did not act
