"""The real app, headless (App.run_test + Pilot), on a real `memorylayer-server`: the
session list with countdowns, the timeline (the workspace's memories, said so), working
memory, the context, extend +6 h read back over HTTP, close refused in MemoryLayer's
words, and a session removed on the server leaving with a toast.

One server for the run; this test keeps to its own workspace."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from memtui.domain.clock import utc_now
from memtui.remote import HttpBackend
from tests.helpers.memorylayer import MemoryLayerServer
from tests.tui.conftest import SIZE, _record_toasts, toasts

SESSION_SETTLE = 30.0


async def wait_until(pilot: Any, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await pilot.pause(0.05)


def expiry(http: httpx.Client, session_id: str) -> datetime:
    data = http.get(f"/v1/sessions/{session_id}").json()["session"]
    return datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))


async def test_the_tui_on_a_real_memorylayer_server(memorylayer_server: MemoryLayerServer) -> None:
    from memtui.tui.app import MemtuiApp
    from memtui.tui.widgets.context_preview import ContextPreviewPane
    from memtui.tui.widgets.timeline import TimelineView

    ws = f"tui-{uuid.uuid4().hex[:8]}"
    http = httpx.Client(base_url=memorylayer_server.url, timeout=30.0)
    scope = {"X-Workspace-ID": ws}
    keep = http.post("/v1/sessions", json={"workspace_id": ws, "ttl_seconds": 3600}).json()
    doomed = http.post("/v1/sessions", json={"workspace_id": ws, "ttl_seconds": 1800}).json()
    sid, doomed_id = keep["session"]["id"], doomed["session"]["id"]
    http.post(f"/v1/sessions/{sid}/memory", json={"key": "plan", "value": {"step": 1}})
    for content in ("read the auth module", "decided to use JWT"):
        http.post("/v1/memories", json={"content": content, "type": "episodic"}, headers=scope)

    backend = HttpBackend(memorylayer_server.url, clock=utc_now)
    app = MemtuiApp(backend, clock=utc_now, poll_interval=0.25)
    app.animation_level = "none"
    _record_toasts(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            session_list = app.session_list
            await wait_until(pilot, lambda: {sid, doomed_id} <= set(session_list.shown_ids))
            # Countdowns from expires_at; the workspace in the agent column.
            left = str(session_list.table.get_cell(sid, "left"))
            assert left.startswith(("59m", "1h")), left
            assert str(session_list.table.get_cell(sid, "agent")) == ws
            assert "MemoryLayer" in app.status_bar.backend_text

            session_list.table.move_cursor(row=session_list.shown_ids.index(sid))
            view = app.query_one(TimelineView)
            # Two memories and the server's long-term copy of the working-memory write.
            await wait_until(pilot, lambda: view.total == 3 and view.memory_at(0) is not None)
            header = str(app.query_one("#timeline-header").render())
            assert "memories are the workspace's" in header

            await pilot.press("2")
            pane = app.query_one("WorkingMemoryPane")
            await wait_until(pilot, lambda: pane.loaded_key == "plan")
            assert '"step": 1' in pane.editor.text
            # No per-key delete or rename in MemoryLayer: said at once, nothing asked.
            app.query_one("#wm-keys").focus()
            await pilot.press("d")
            await wait_until(pilot, lambda: any("delete one working" in t for t in toasts(app)))
            await pilot.press("r")
            await wait_until(pilot, lambda: any("cannot rename" in t for t in toasts(app)))
            assert len(app.screen_stack) == 1  # no confirm or prompt was opened

            await pilot.press("3")
            context = app.query_one(ContextPreviewPane)
            await wait_until(pilot, lambda: context.result is not None)
            await wait_until(pilot, lambda: "decided to use JWT" in context.preview_text)
            assert 'plan: {"step":1}' in context.preview_text
            ours = context.preview_text

            # m: MemoryLayer's own context-pack, memtui's exact count beside its estimate.
            context.query_one("#cp-rendered-scroll").focus()
            await pilot.press("m")
            await wait_until(pilot, lambda: context.server_pack is not None)
            pack = context.server_pack
            assert pack is not None and context.preview_text == pack.text != ours
            gauge = str(context.query_one("#cp-gauge-label").render())
            assert f"{pack.exact_tokens:,} tokens exact" in gauge and "its estimate" in gauge
            await pilot.press("m")
            await wait_until(pilot, lambda: context.server_pack is None)
            await wait_until(pilot, lambda: context.preview_text == ours)

            # Extend +6 h from the session list: the server's expiry moves by 6 h.
            before = expiry(http, sid)
            session_list.table.focus()
            await pilot.press("e")
            await wait_until(pilot, lambda: any(f"{sid} extended: 6h" in t for t in toasts(app)))
            await wait_until(pilot, lambda: expiry(http, sid) > before + timedelta(hours=5))
            assert abs(expiry(http, sid) - before - timedelta(hours=6)) < timedelta(seconds=3)

            # Close does not exist in MemoryLayer: said politely, nothing sent.
            await pilot.press("c")
            await wait_until(pilot, lambda: any("cannot be closed" in t for t in toasts(app)))

            # A session removed on the server (as its cleanup does) leaves with a toast.
            http.delete(f"/v1/sessions/{doomed_id}")
            await wait_until(pilot, lambda: doomed_id not in session_list.shown_ids)
            await wait_until(pilot, lambda: any("removed on the server" in t for t in toasts(app)))
            assert not any("error" in t.lower() for t in toasts(app))
            assert session_list.selected_session is not None
            assert session_list.selected_session.id == sid  # the cursor stayed
    finally:
        backend.close()
        http.close()
