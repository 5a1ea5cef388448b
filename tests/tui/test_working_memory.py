"""The working-memory editor in the real app, on a real SQLite file with a frozen clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from textual.widgets import Static, TextArea

from memtui.domain.errors import NotFoundError
from memtui.domain.models import Capability
from memtui.store import SqlStore
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.screens.working_memory_dialogs import (
    CommitModal,
    ConflictModal,
    UnsavedEditsModal,
)
from memtui.tui.widgets.working_memory import WorkingMemoryPane, format_value
from tests.tui.conftest import LIVE_POLL, toasts, wait_for_screen, wait_until

SIZE = (120, 40)
SESSION = "sess_alpha"
PLAN = {"goal": "ship the TUI", "steps": ["store", "context", {"tui": ["panes", "tests"]}]}


@pytest.fixture
def wm_store(small_store: SqlStore) -> SqlStore:
    small_store.set_working_memory(SESSION, "current_plan", PLAN, importance=0.9)
    small_store.set_working_memory(SESSION, "scratch", "temporary note", importance=0.2)
    small_store.set_working_memory(SESSION, "user_prefs", {"tabs": 2}, importance=0.6)
    return small_store


def notifications(app: Any) -> list[str]:
    return toasts(app)


async def open_working_memory(app: Any, pilot: Any, settle: Any) -> WorkingMemoryPane:
    await settle(pilot)
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(SESSION))
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    pane = app.query_one(WorkingMemoryPane)
    assert pane.session is not None and pane.session.id == SESSION
    return pane


async def open_key(pane: WorkingMemoryPane, pilot: Any, settle: Any, key: str) -> None:
    table = pane.keys_table
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await settle(pilot)
    assert pane.loaded_key == key


def status_text(pane: WorkingMemoryPane) -> str:
    return str(pane.query_one("#wm-status", Static).render())


async def test_lists_keys_and_opens_the_first_value(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        table = pane.keys_table
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [
            "current_plan",
            "scratch",
            "user_prefs",
        ]
        assert pane.loaded_key == "current_plan"
        assert json.loads(pane.editor.text) == PLAN
        assert not pane.is_dirty


async def test_invalid_json_is_never_saved_and_never_lost(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        broken = '{\n  "goal": "ship",\n  "steps" ["a"]\n}'
        with pytest.raises(json.JSONDecodeError) as expected:
            json.loads(broken)
        pane.editor.focus()
        pane.editor.load_text(broken)
        await pilot.press("ctrl+s")
        await settle(pilot)

        line, column = expected.value.lineno, expected.value.colno
        assert (line, column) == (3, 11)
        assert f"line {line}, column {column}" in status_text(pane)
        assert any(f"line {line}, column {column}" in note for note in notifications(app))
        assert pane.editor.text == broken  # exactly as typed
        assert pane.editor.cursor_location == (line - 1, column - 1)
        assert pane.is_dirty
        stored = wm_store.get_working_memory(SESSION, "current_plan")
        assert stored.value == PLAN and stored.version == 1  # nothing written


async def test_save_writes_with_the_loaded_version(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        pane.editor.load_text('{"goal": "ship it", "done": true}')
        await pilot.press("ctrl+s")
        await settle(pilot)
        stored = wm_store.get_working_memory(SESSION, "current_plan")
        assert stored.value == {"goal": "ship it", "done": True}
        assert stored.version == 2
        assert not pane.is_dirty
        assert "Saved 'current_plan' as v2" in status_text(pane)


@pytest.mark.parametrize("choice", ["mine", "theirs", "keep"])
async def test_a_version_conflict_shows_both_versions_and_the_user_chooses(
    wm_store, sqlite_url, clock, make_app, settle, choice
):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        mine = '{"goal": "mine"}'
        pane.editor.load_text(mine)
        # Another process writes the same key between load and save.
        other = SqlStore(sqlite_url, clock=clock)
        theirs = other.set_working_memory(
            SESSION, "current_plan", {"goal": "theirs"}, expected_version=1
        )
        other.close()
        assert theirs.version == 2
        await pilot.press("ctrl+s")
        await settle(pilot)

        modal = app.screen
        assert isinstance(modal, ConflictModal)
        assert modal.query_one("#conflict-mine", TextArea).text == mine
        assert modal.query_one("#conflict-theirs", TextArea).text == format_value(
            {"goal": "theirs"}
        )
        assert "v2" in str(modal.query_one("#conflict-theirs-label").render())
        # Nothing was overwritten while the user decides.
        assert wm_store.get_working_memory(SESSION, "current_plan").value == {"goal": "theirs"}

        await pilot.press({"mine": "m", "theirs": "t", "keep": "k"}[choice])
        await settle(pilot)
        assert not isinstance(app.screen, ConflictModal)
        stored = wm_store.get_working_memory(SESSION, "current_plan")
        if choice == "mine":
            assert stored.value == {"goal": "mine"} and stored.version == 3
            assert not pane.is_dirty
        elif choice == "theirs":
            assert stored.value == {"goal": "theirs"} and stored.version == 2
            assert json.loads(pane.editor.text) == {"goal": "theirs"}
            assert not pane.is_dirty
        else:
            assert stored.value == {"goal": "theirs"} and stored.version == 2
            assert pane.editor.text == mine and pane.is_dirty
            assert "changed elsewhere" in str(pane.query_one("#wm-title").render())
            # Saving again goes through the conflict dialog again, never silently.
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ConflictModal)


async def test_switching_keys_with_unsaved_edits_asks(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        edited = '{"goal": "half typed'
        pane.editor.load_text(edited)
        pane.keys_table.focus()
        await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.screen, UnsavedEditsModal)
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert pane.loaded_key == "current_plan" and pane.editor.text == edited
        assert pane.keys_table.cursor_row == 0

        pane.keys_table.focus()
        await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.screen, UnsavedEditsModal)
        await pilot.press("d")  # discard
        await settle(pilot)
        assert pane.loaded_key == "scratch"
        assert json.loads(pane.editor.text) == "temporary note"
        assert wm_store.get_working_memory(SESSION, "current_plan").value == PLAN


async def test_add_rename_importance_and_delete_a_key(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        pane.keys_table.focus()

        await pilot.press("a")
        await wait_for_screen(pilot, PromptScreen)
        await pilot.press(*"open_files", "enter")
        await settle(pilot)
        added = wm_store.get_working_memory(SESSION, "open_files")
        assert added.value == {} and added.version == 1
        assert pane.loaded_key == "open_files"
        # The new key's editor has the focus with the cursor inside the braces (issue 9).
        assert app.focused is pane.editor and pane.editor.cursor_location == (0, 1)
        await pilot.press(*'"a": 1')
        assert pane.editor.text == '{"a": 1}'
        pane.editor.load_text("{}")

        pane.keys_table.focus()
        await pilot.press("r")
        await wait_for_screen(pilot, PromptScreen)
        await pilot.press(*"files_open", "enter")  # the old name is selected and replaced
        await settle(pilot)
        with pytest.raises(NotFoundError):
            wm_store.get_working_memory(SESSION, "open_files")
        assert wm_store.get_working_memory(SESSION, "files_open").value == {}
        assert pane.loaded_key == "files_open"

        pane.keys_table.focus()
        await pilot.press("i")
        await wait_for_screen(pilot, PromptScreen)
        await pilot.press(*"0.75", "enter")
        await settle(pilot)
        assert wm_store.get_working_memory(SESSION, "files_open").importance == 0.75

        pane.keys_table.focus()
        await pilot.press("i")
        await wait_for_screen(pilot, PromptScreen)
        await pilot.press(*"1.5", "enter")
        await settle(pilot)
        # Invalid input keeps the dialog open with the message, like every form (issue 9).
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert "not '1.5'" in str(prompt.query_one("#prompt-error", Static).render())
        assert wm_store.get_working_memory(SESSION, "files_open").importance == 0.75
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen)

        pane.keys_table.focus()
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("n")  # cancel keeps it
        await settle(pilot)
        assert wm_store.get_working_memory(SESSION, "files_open")
        pane.keys_table.focus()
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(NotFoundError):
            wm_store.get_working_memory(SESSION, "files_open")
        assert "files_open" not in [
            str(pane.keys_table.get_row_at(i)[0]) for i in range(pane.keys_table.row_count)
        ]


async def test_a_change_elsewhere_reloads_a_clean_key_and_marks_a_dirty_one(
    wm_store, sqlite_url, clock, make_app, settle
):
    app = make_app(wm_store, poll_interval=LIVE_POLL)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        other = SqlStore(sqlite_url, clock=clock)
        other.set_working_memory(SESSION, "current_plan", {"goal": "v2"})
        await wait_until(pilot, lambda: "v2" in pane.editor.text, what="the reload")
        await settle(pilot)
        assert json.loads(pane.editor.text) == {"goal": "v2"}  # clean: reloaded
        assert not pane.is_dirty

        pane.editor.load_text('{"goal": "my edit"}')
        other.set_working_memory(SESSION, "current_plan", {"goal": "v3"})
        other.close()
        title = pane.query_one("#wm-title")
        await wait_until(pilot, lambda: "now v3" in str(title.render()), what="the feed")
        await settle(pilot)
        assert pane.editor.text == '{"goal": "my edit"}'  # dirty: kept, and marked
        assert "changed elsewhere (now v3)" in str(pane.query_one("#wm-title").render())


async def test_commit_to_long_term_memory_shows_what_was_created(wm_store, make_app, settle):
    app = make_app(wm_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        pane.keys_table.focus()
        await pilot.press("c")
        await wait_for_screen(pilot, CommitModal)
        await pilot.press("enter")  # min_importance 0.5, deduplicate on
        await settle(pilot)
        summary = str(pane.query_one("#wm-commit-result", Static).render())
        assert "2 memories created (current_plan, user_prefs)" in summary
        assert "1 skipped below importance 0.5 (scratch)" in summary
        assert any("2 memories created" in note for note in notifications(app))

        # Committing again deduplicates instead of creating twice.
        pane.keys_table.focus()
        await pilot.press("c")
        await wait_for_screen(pilot, CommitModal)
        await pilot.press("enter")
        await settle(pilot)
        summary = str(pane.query_one("#wm-commit-result", Static).render())
        assert "0 memories created" in summary and "2 deduplicated" in summary


async def test_a_backend_without_working_memory_gets_a_polite_explanation(
    wm_store, sqlite_url, clock, make_app, settle
):
    class PlainMemtrace(SqlStore):
        def capabilities(self) -> frozenset[str]:
            return frozenset({Capability.CONTEXT_BUDGET.value})

    backend = PlainMemtrace(sqlite_url, clock=clock)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_working_memory(app, pilot, settle)
        message = str(pane.query_one("#wm-message", Static).render())
        assert "no working memory" in message
        pane.keys_table.focus()
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen)
    backend.close()


class FixedNameStore(SqlStore):
    """The real store; only its description is fixed (the tmp path would churn snapshots)."""

    def describe(self) -> str:
        return "sqlite:///store.db"


def test_snapshot_working_memory(wm_store, sqlite_url, clock, make_app, settle, snap_compare):
    app = make_app(FixedNameStore(sqlite_url, clock=clock))

    async def run_before(pilot: Any) -> None:
        await open_working_memory(app, pilot, settle)
        pane = app.query_one(WorkingMemoryPane)
        pane.editor.focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
