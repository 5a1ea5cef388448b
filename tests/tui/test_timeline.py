"""Timeline: filters, scope, detail, add/edit/delete, bulk delete, capabilities, paging."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from memtui.domain.models import Capability, MemoryQuery, NewMemory, Order
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.forms import MemoryFormScreen
from memtui.tui.screens.memory_detail import MemoryDetailScreen
from memtui.tui.timeline_source import TimelineSource
from memtui.tui.widgets.timeline import TimelinePane, TimelineView
from tests.tui.conftest import SIZE, SMALL_MEMORY_COUNT, toasts, wait_for_screen


async def open_timeline(pilot, settle) -> tuple[TimelinePane, TimelineView]:
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)
    pane = pilot.app.query_one(TimelinePane)
    assert pane.session is not None and pane.session.id == "sess_alpha"
    return pane, pane.view


async def apply_filter(pilot, pane: TimelinePane, text: str, settle) -> None:
    await pilot.press("slash")
    pane.query_one("#timeline-filter").value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_opens_at_the_newest_and_filters_change_it(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane, view = await open_timeline(pilot, settle)
        assert view.total == SMALL_MEMORY_COUNT
        assert view.current.id == "mem_alpha_29"  # opens at the newest
        await pilot.press("home")
        assert view.current.id == "mem_alpha_00"

        await apply_filter(pilot, pane, "type:decision", settle)
        assert view.total == 6
        await pilot.press("home")
        assert view.current.memory_type == "decision"
        await apply_filter(pilot, pane, "tag:auth", settle)
        assert view.total == 10
        await apply_filter(pilot, pane, "since:10m", settle)
        assert view.total == 10 and view.current.id == "mem_alpha_29"
        await apply_filter(pilot, pane, "until:25m", settle)
        assert view.total == 6  # i <= 5
        await apply_filter(pilot, pane, "event:error", settle)
        assert view.total == 1 and view.current.id == "mem_alpha_07"
        await apply_filter(pilot, pane, "memory 1", settle)
        assert view.total == 10  # 10..19
        await apply_filter(pilot, pane, "type:episodic imp:0.5 about", settle)
        assert {view.memory_at(i).id for i in range(view.total)} == {"mem_alpha_09", "mem_alpha_15"}

        # A bad time bound names the value; the input keeps it; the timeline is unchanged.
        await apply_filter(pilot, pane, "since:yesterdayish", settle)
        error = str(pane.query_one("#timeline-filter-error").render())
        assert "yesterdayish" in error
        assert pane.query_one("#timeline-filter").value == "since:yesterdayish"
        assert view.total == 2

        await apply_filter(pilot, pane, "", settle)
        assert view.total == SMALL_MEMORY_COUNT


async def test_agent_scope_shows_every_session_of_the_agent(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane, view = await open_timeline(pilot, settle)
        await pilot.press("t")
        await settle(pilot)
        assert pane.agent_scope and view.total == SMALL_MEMORY_COUNT + 5
        await pilot.press("home")
        assert view.current.session_id == "sess_bravo"  # bravo's are two hours old
        await pilot.press("t")
        await settle(pilot)
        assert view.total == SMALL_MEMORY_COUNT


async def test_detail_add_and_edit(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane, view = await open_timeline(pilot, settle)
        await pilot.press("enter")
        await wait_for_screen(pilot, MemoryDetailScreen)
        assert "alpha memory 29" in str(app.screen.query_one("#detail-content").render())
        await pilot.press("escape")

        await pilot.press("a")
        form = await wait_for_screen(pilot, MemoryFormScreen)
        form.query_one("#content").text = "decided to use keyset paging"
        form.query_one("#type").value = "decision"
        form.query_one("#tags").value = "perf, db"
        form.query_one("#importance").value = "1.5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "importance" in str(form.query_one("#form-error").render())
        form.query_one("#importance").value = "0.9"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert view.total == SMALL_MEMORY_COUNT + 1
        added = view.current
        assert added.content == "decided to use keyset paging"
        assert added.tags == ["perf", "db"] and added.importance == 0.9

        await pilot.press("e")
        form = await wait_for_screen(pilot, MemoryFormScreen)
        form.query_one("#content").text = "decided to use keyset paging everywhere"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert small_store.get_memory(added.id).content.endswith("everywhere")
        assert view.current.content.endswith("everywhere")


async def test_bulk_delete_removes_exactly_the_selected(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane, view = await open_timeline(pilot, settle)
        await pilot.press("home", "space", "down", "space", "down", "down", "space")
        # space selects and moves down: 00, then 02 (after one more down), then 05.
        assert view.selected == {"mem_alpha_00", "mem_alpha_02", "mem_alpha_05"}
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmScreen)
        assert "3" in app.screen.title_text
        await pilot.press("n")
        await settle(pilot)
        assert small_store.count_memories(MemoryQuery(session_id="sess_alpha")) == 30
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        left = small_store.list_memories(MemoryQuery(session_id="sess_alpha", limit=100)).memories
        assert {m.id for m in left} == {
            f"mem_alpha_{i:02d}" for i in range(30) if i not in (0, 2, 5)
        }
        assert view.total == 27 and not view.selected


class NoIdsBackend:
    """The real store, minus the capabilities a plain Memtrace server lacks."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def capabilities(self) -> frozenset[str]:
        return self._store.capabilities() - {
            Capability.MEMORY_IDS,
            Capability.MEMORY_EDIT,
            Capability.SESSION_DELETE,
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_edit_and_delete_say_politely_when_the_backend_cannot(small_store, make_app, settle):
    app = make_app(NoIdsBackend(small_store))
    async with app.run_test(size=SIZE) as pilot:
        pane, view = await open_timeline(pilot, settle)
        for key in ("e", "d", "space"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, MemoryFormScreen | ConfirmScreen)
        messages = toasts(app)
        assert any("cannot edit memories" in m for m in messages)
        assert any("cannot delete memories" in m for m in messages)
        assert small_store.count_memories(MemoryQuery(session_id="sess_alpha")) == 30
        app.session_list.table.focus()
        await pilot.press("D")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("cannot delete sessions" in m for m in toasts(app))


def test_source_pages_by_keyset_and_matches_the_full_order(store, clock):
    start = clock.now
    store.create_session("a", session_id="sess_big")
    memories = [
        NewMemory(
            agent_id="a",
            session_id="sess_big",
            content=f"m{i}",
            # ties in time are broken by id; keyset paging must not skip or repeat
            time=start - timedelta(seconds=1000 - (i // 3)),
            id=f"mem_{i:05d}",
        )
        for i in range(1000)
    ]
    store.add_memories(memories)
    query = MemoryQuery(session_id="sess_big", order=Order.ASC.value)
    expected = [m.id for m in memories]
    source = TimelineSource(query, store.count_memories(query), page_size=37, max_pages=5)
    # Open at the end, walk back a few pages by keyset, then jump into the middle.
    source.load_pages(store, [source.last_page - 1, source.last_page])
    assert source.queries_run == 2
    assert [source.peek(i).id for i in range(990, 1000)] == expected[990:]
    source.load_pages(store, [source.last_page - 2, source.last_page - 3])
    assert source.queries_run == 4
    source.load_pages(store, [13, 14])
    assert source.queries_run == 6
    assert [source.peek(i).id for i in range(13 * 37, 15 * 37)] == expected[13 * 37 : 15 * 37]
    # Walking forward from the start is keyset all the way and agrees with the order.
    fresh = TimelineSource(query, 1000, page_size=37, max_pages=3)
    seen = []
    for page in range(fresh.last_page + 1):
        fresh.load_pages(store, [page])
        seen += [fresh.peek(i).id for i in range(page * 37, min(page * 37 + 37, 1000))]
    assert seen == expected
    assert len(fresh._pages) == 3  # the LRU bound holds
