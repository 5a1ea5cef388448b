"""Issue 9 item 1: the highlighted timeline row is always the one every key acts on.

The highlight is read from what the compositor paints (the screen's strips), not from
the widget's state, so a row that is highlighted on screen but not under the cursor (or
the reverse) fails here. Walks the demo's 90-memory session from the bottom, the top and
the middle, and a 450-memory session across the keyset cache's page boundaries (pages
of 100), locally and against a real `memtui serve`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from memtui.domain.models import NewMemory
from memtui.tui.screens.memory_detail import MemoryDetailScreen
from memtui.tui.widgets.timeline import TimelinePane, TimelineView
from tests.tui.conftest import toasts, wait_for_screen, wait_until

DEMO_LONG = "sess_demo_auth_refactor"  # 90 memories
SIZE = (160, 48)


def highlighted_rows(view: TimelineView) -> list[int]:
    """Timeline indices of the rows painted with the cursor's background."""
    strips = view.app.screen._compositor.render_strips()
    region = view.scrollable_content_region
    cursor_bg = view.get_component_rich_style("timeline--cursor").bgcolor
    rows = []
    for y in range(region.height):
        strip = strips[region.y + y]
        cells = list(strip.crop(region.x + 2, region.x + region.width - 1))
        backgrounds = {segment.style.bgcolor for segment in cells if segment.style}
        if cursor_bg in backgrounds:
            rows.append(int(view.scroll_y) + y)
    return rows


def screen_line(view: TimelineView, index: int) -> str:
    strips = view.app.screen._compositor.render_strips()
    region = view.scrollable_content_region
    y = index - int(view.scroll_y)
    assert 0 <= y < region.height, f"row {index} is not on screen"
    return strips[region.y + y].crop(region.x, region.x + region.width).text


async def select_session(pilot: Any, settle: Any, session_id: str) -> tuple[TimelinePane, Any]:
    app = pilot.app
    await wait_until(pilot, lambda: session_id in app.session_list.shown_ids)
    table = app.session_list.table
    table.move_cursor(row=app.session_list.shown_ids.index(session_id), animate=False)
    await settle(pilot)
    pane = app.query_one(TimelinePane)
    await wait_until(
        pilot,
        lambda: (
            pane.session is not None
            and pane.session.id == session_id
            and not pane.view.is_provisional
            and pane.view.current is not None
        ),
        what="the timeline to load",
    )
    pane.view.focus()
    await settle(pilot)
    return pane, pane.view


async def assert_acts_on_highlight(pilot: Any, view: TimelineView, *, enter: bool = True) -> None:
    """The one highlighted row is the cursor's and shows its memory; Enter opens it."""
    await wait_until(pilot, lambda: view.current is not None, what="the cursor row's page")
    await pilot.pause()
    rows = highlighted_rows(view)
    assert rows == [view.cursor], f"highlighted {rows}, cursor at {view.cursor}"
    memory = view.current
    words = " ".join(memory.content.split())[:20]  # what fits beside the tags at 160×48
    assert words in screen_line(view, view.cursor)
    if not enter:
        return
    await pilot.press("enter")
    screen = await wait_for_screen(pilot, MemoryDetailScreen)
    assert screen.memory.id == memory.id
    await pilot.press("escape")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, MemoryDetailScreen))
    view.focus()
    await pilot.pause()


async def walk_demo_timeline(pilot: Any, settle: Any) -> None:
    pane, view = await select_session(pilot, settle, DEMO_LONG)
    assert view.total == 90
    # The steps: the newest row, then up twice (k, then the arrow).
    await pilot.press("G")
    await assert_acts_on_highlight(pilot, view)
    await pilot.press("k")
    await assert_acts_on_highlight(pilot, view)
    await pilot.press("up")
    assert view.cursor == 87
    await assert_acts_on_highlight(pilot, view)
    # The top, then the middle.
    await pilot.press("g")
    await assert_acts_on_highlight(pilot, view)
    await pilot.press("j", "down")
    await assert_acts_on_highlight(pilot, view, enter=False)
    await pilot.press("pagedown", "pagedown", "up")
    await assert_acts_on_highlight(pilot, view)
    await pilot.press("end", "pageup", "k", "k")
    await assert_acts_on_highlight(pilot, view)
    # `e` edits the highlighted memory, not another one.
    current = view.current
    await pilot.press("e")
    from memtui.tui.screens.forms import MemoryFormScreen

    form = await wait_for_screen(pilot, MemoryFormScreen)
    assert form.memory is not None and form.memory.id == current.id
    await pilot.press("escape")


async def test_demo_timeline_acts_on_the_highlighted_row(demo_store, make_app, settle):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await walk_demo_timeline(pilot, settle)
        assert not any("unexpected" in t for t in toasts(app))


def add_long_session(store: Any, clock: Any, count: int = 450) -> str:
    store.create_session("pager", session_id="sess_long")
    store.add_memories(
        [
            NewMemory(
                agent_id="pager",
                session_id="sess_long",
                content=f"long memory {i:04d}",
                time=clock.now - timedelta(seconds=count - i),
                id=f"mem_long_{i:04d}",
            )
            for i in range(count)
        ]
    )
    return "sess_long"


async def walk_across_pages(pilot: Any, settle: Any) -> None:
    pane, view = await select_session(pilot, settle, "sess_long")
    assert view.total == 450
    await assert_acts_on_highlight(pilot, view)
    assert view.current.id == "mem_long_0449"
    # Up across the boundary of the last cached pages (300/299, 200/199) by pages.
    for step in range(6):
        await pilot.press("pageup")
        await assert_acts_on_highlight(pilot, view, enter=step % 2 == 1)
    # Home and back down across the first page boundary (99/100) row by row.
    await pilot.press("home")
    await assert_acts_on_highlight(pilot, view)
    assert view.current.id == "mem_long_0000"
    view.set_cursor(97)
    for _ in range(4):
        await pilot.press("j")
        await assert_acts_on_highlight(pilot, view, enter=False)
    await assert_acts_on_highlight(pilot, view)
    assert view.current.id == "mem_long_0101"
    # Into the middle, where no page was cached yet.
    view.set_cursor(250, center=True)
    await assert_acts_on_highlight(pilot, view)
    assert view.current.id == "mem_long_0250"


async def test_long_timeline_across_page_boundaries(store, clock, make_app, settle):
    add_long_session(store, clock)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await walk_across_pages(pilot, settle)


async def test_remote_timeline_acts_on_the_highlighted_row(demo_template, tmp_path, clock, settle):
    """The same walks through a real `memtui serve` (HttpBackend)."""
    import shutil

    from memtui.domain.clock import FileClock
    from memtui.remote import HttpBackend
    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp
    from tests.helpers.live_server import start_live_server

    db_url = f"sqlite:///{tmp_path / 'served.db'}"
    shutil.copyfile(demo_template, tmp_path / "served.db")
    store = SqlStore(db_url, clock=clock)
    try:
        add_long_session(store, clock)
    finally:
        store.close()
    file_clock = FileClock(str(tmp_path / "clock"))
    file_clock.set(clock.now)
    server = start_live_server(db_url, clock_file=file_clock.path)
    backend = HttpBackend(server.url, api_key=server.api_key, clock=file_clock)
    try:
        app = MemtuiApp(backend, clock=file_clock)
        app.animation_level = "none"
        async with app.run_test(size=SIZE) as pilot:
            await walk_demo_timeline(pilot, settle)
            await walk_across_pages(pilot, settle)
    finally:
        backend.close()
        server.stop()
