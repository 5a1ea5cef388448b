"""Issue 9, keys and navigation as habits expect: `?` is F1; j/k, g/G, Home/End and
PgUp/PgDn in every list; filters on Enter everywhere; Esc leaves a text field, then
returns to the session list from any pane; the focused pane is marked; digits switch
tabs outside text fields and the footer says so; the session list sorts k9s-style and
remembers it; a filled form asks before Esc discards it; counted nouns agree."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input, TextArea

from memtui.config import load_config
from memtui.domain.models import NewMemory, NewSnapshot
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.forms import MemoryFormScreen, NewSessionScreen
from memtui.tui.screens.help import HelpScreen
from memtui.tui.widgets.timeline import TimelineView
from tests.tui.conftest import SIZE, wait_for_screen


async def test_question_mark_opens_the_same_help_as_f1(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        f1 = await wait_for_screen(pilot, HelpScreen)
        f1_text = f1.markdown
        await pilot.press("escape")
        await pilot.press("question_mark")
        question = await wait_for_screen(pilot, HelpScreen)
        assert question.markdown == f1_text
        await pilot.press("escape")
        # In a text field `?` is text.
        await pilot.press("slash", "question_mark")
        assert app.session_list.query_one("#session-filter", Input).value == "?"
        assert not isinstance(app.screen, HelpScreen)


async def test_vim_and_home_end_keys_in_every_list(small_store, clock, make_app, settle):
    for i in range(3):
        small_store.set_working_memory("sess_alpha", f"key_{i}", {"i": i})
        small_store.create_snapshot(
            "sess_alpha", NewSnapshot(event="checkpoint", open_tasks=[f"task {i}"])
        )
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.session_list.table
        table.focus()
        last = len(app.session_list.shown_ids) - 1
        for keys, row in (
            (("j",), 1),
            (("j", "j"), 3),
            (("k",), 2),
            (("g",), 0),
            (("G",), last),
            (("home",), 0),
            (("end",), last),
            (("pageup",), 0),
        ):
            await pilot.press(*keys)
            assert table.cursor_row == row, keys
        await pilot.press("home")
        await settle(pilot)
        for tab, table_id in (("2", "#wm-keys"), ("4", "#snap-list")):
            await pilot.press(tab)
            await settle(pilot)
            pane_table = app.query_one(table_id)
            pane_table.focus()
            await pilot.press("G")
            assert pane_table.cursor_row == pane_table.row_count - 1 > 0, table_id
            await pilot.press("k")
            assert pane_table.cursor_row == pane_table.row_count - 2, table_id
            await pilot.press("g")
            assert pane_table.cursor_row == 0, table_id
            await pilot.press("j")
            assert pane_table.cursor_row == 1, table_id
            await pilot.press("end")
            assert pane_table.cursor_row == pane_table.row_count - 1, table_id


async def test_escape_leaves_the_field_then_returns_to_the_session_list(
    small_store, make_app, settle
):
    small_store.set_working_memory("sess_alpha", "plan", {"step": 1})
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_table = app.session_list.table
        # Timeline: the filter, then the view, then the session list.
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert isinstance(app.focused, TimelineView)
        await pilot.press("escape")
        assert app.focused is session_table
        # Working memory: the editor, then the key list, then the session list.
        await pilot.press("2")
        await settle(pilot)
        editor = app.query_one("#wm-editor", TextArea)
        editor.focus()
        await pilot.pause()
        await pilot.press("escape")
        assert app.focused is app.query_one("#wm-keys")
        await pilot.press("escape")
        assert app.focused is session_table
        # Context: an input, then the preview, then the session list.
        await pilot.press("3")
        await settle(pilot)
        app.query_one("#cp-since", Input).focus()
        await pilot.pause()
        await pilot.press("escape")
        assert app.focused is not None and not isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.focused is session_table
        # Snapshots and briefing: straight back.
        for tab in ("4", "5"):
            await pilot.press(tab)
            await settle(pilot)
            assert app.focused is not session_table
            await pilot.press("escape")
            assert app.focused is session_table, tab


async def test_the_focused_pane_is_marked(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session_list = app.session_list
        tabs = app.query_one("#tabs")

        def bar(widget) -> str:
            return widget.styles.border_left[1].hex

        assert session_list.has_pseudo_class("focus-within")
        focused, unfocused = bar(session_list), bar(tabs)
        assert focused != unfocused
        await pilot.press("1")
        await settle(pilot)
        assert bar(tabs) == focused and bar(session_list) == unfocused


async def test_digits_switch_tabs_outside_text_fields_and_the_footer_says_so(
    small_store, make_app, settle
):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen._compositor.render_strips()[-1].text
        assert "1-5 Tabs" in footer
        tabs = app.query_one("#tabs")
        await pilot.press("2")
        await settle(pilot)
        assert tabs.active == "tab-working-memory"
        await pilot.press("escape")
        await pilot.press("slash", "3")
        await pilot.pause()
        assert tabs.active == "tab-working-memory"  # typed, not a tab switch
        assert app.session_list.query_one("#session-filter", Input).value == "3"


async def test_session_list_sorts_one_key_each_and_remembers(small_store, clock, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.session_list
        pane.table.focus()
        await pilot.press("T")  # time left: the soonest first, expired after live ones
        await pilot.pause()
        assert pane.shown_ids == ["sess_bravo", "sess_charlie", "sess_alpha", "sess_delta"]
        assert "▼" in str(pane.table.columns["left"].label)
        await pilot.press("T")  # again: reversed
        await pilot.pause()
        assert pane.shown_ids == ["sess_delta", "sess_alpha", "sess_charlie", "sess_bravo"]
        await pilot.press("A")
        await pilot.pause()
        assert [pane.sessions[s].agent_id for s in pane.shown_ids] == [
            "claude",
            "claude",
            "codex",
            "codex",
        ]
        await pilot.press("S")
        await pilot.pause()
        assert pane.shown_ids[-1] == "sess_delta"  # the expired one after the active
        assert load_config()["session_sort"] == {"key": "status", "reverse": False}
    again = make_app(small_store)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.session_list.sort_key == "status"
        assert again.session_list.shown_ids[-1] == "sess_delta"


async def test_escape_on_a_filled_form_asks_before_discarding(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.session_list.table.focus()
        # Untouched: escape closes at once.
        await pilot.press("n")
        await wait_for_screen(pilot, NewSessionScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, NewSessionScreen)
        # Typed into: escape asks; n keeps the form and its text; y discards.
        await pilot.press("n")
        form = await wait_for_screen(pilot, NewSessionScreen)
        form.query_one("#agent", Input).value = "planner"
        await pilot.press("escape")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is form and form.query_one("#agent", Input).value == "planner"
        await pilot.press("escape")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, NewSessionScreen | ConfirmScreen)
        assert len(small_store.list_sessions()) == 4  # nothing created
        # The memory form too.
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("a")
        form = await wait_for_screen(pilot, MemoryFormScreen)
        form.query_one("#content", TextArea).text = "half a thought"
        await pilot.press("escape")
        await wait_for_screen(pilot, ConfirmScreen)


async def test_counted_nouns_agree(store, clock, make_app, settle):
    store.create_session("solo", session_id="sess_one")
    store.add_memories(
        [
            NewMemory(
                agent_id="solo",
                session_id="sess_one",
                content="the only one",
                time=clock.now - timedelta(minutes=1),
                id="mem_only",
            )
        ]
    )
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        header = str(app.query_one("#timeline-header").render())
        assert "· 1 memory" in header and "1 memories" not in header
        await pilot.press("space", "d")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert confirm.title_text == "Delete 1 memory?"
        assert "1 selected memory will be removed" in confirm.body_text
        await pilot.press("n")
