"""Large working-memory values (issue 8 item 13): over 256 KB a value opens read-only as
a preview, says why, and is edited whole in $EDITOR: a private temp file, checked as
JSON on return, saved with the version it was loaded at.

The editor is a real program: a small Python script given as $EDITOR that edits the
file the way a person would (and records the file's mode)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static
from textual.worker import WorkerCancelled

from memtui.store import SqlStore
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.value_text import LARGE_VALUE_CHARS, PREVIEW_CHARS, value_text
from memtui.tui.widgets.working_memory import WorkingMemoryPane
from tests.tui.conftest import toasts, wait_for_screen

SIZE = (120, 40)
SESSION = "sess_alpha"
# About 600 KB of JSON: well over the limit, opened first (keys are listed by name).
BIG = [
    {"id": i, "path": f"src/module/file_{i:06d}.py", "note": "checked " * 4} for i in range(8000)
]

EDITOR_SCRIPT = """
import json, os, stat, sys
path = sys.argv[-1]
mode = stat.S_IMODE(os.stat(path).st_mode)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps({"path": path, "mode": mode}) + "\\n")
action = sys.argv[2]
text = open(path, encoding="utf-8").read()
if action == "append":
    value = json.loads(text)
    value.append({"id": "added in the editor"})
    text = json.dumps(value)
elif action == "break":
    text = text[:-1] + ",]"
elif action == "exit1":
    sys.exit(1)
open(path, "w", encoding="utf-8").write(text)
"""


@pytest.fixture
def settle(settle: Any) -> Any:
    async def patient(pilot: Any, *args: Any, **kwargs: Any) -> None:
        for _ in range(20):
            try:
                await settle(pilot, *args, **kwargs)
                return
            except WorkerCancelled:
                continue
        await settle(pilot, *args, **kwargs)

    return patient


@pytest.fixture
def big_store(small_store: SqlStore) -> SqlStore:
    small_store.set_working_memory(SESSION, "big_value", BIG)
    small_store.set_working_memory(SESSION, "notes", {"todo": ["a"]})
    return small_store


def use_editor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, action: str) -> Path:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    log = tmp_path / "editor.log"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script} {log} {action}")
    return log


def editor_runs(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


async def open_pane(app: Any, pilot: Any, settle: Any) -> WorkingMemoryPane:
    await settle(pilot)
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(SESSION))
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    pane = app.query_one(WorkingMemoryPane)
    await settle(pilot)
    return pane


def status(pane: WorkingMemoryPane) -> str:
    return str(pane.query_one("#wm-status", Static).render())


def test_a_large_value_is_a_preview_and_a_small_one_is_whole():
    big = value_text(BIG)
    assert big.large and big.size == len(json.dumps(BIG))
    assert big.size > LARGE_VALUE_CHARS
    assert len(big.text) <= PREVIEW_CHARS + 2
    assert big.text.startswith('[\n  {\n    "id": 0,')
    assert big.text.endswith("\n…")
    small = value_text({"a": "\x9b2J"})
    assert not small.large and json.loads(small.text) == {"a": "\x9b2J"}


async def test_a_large_value_opens_read_only_and_says_why(big_store, make_app, settle):
    app = make_app(big_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(app, pilot, settle)
        assert pane.loaded_key == "big_value"
        editor = pane.editor
        assert editor.read_only
        assert len(editor.text) <= PREVIEW_CHARS + 2
        assert "'big_value' is 759 KB of JSON: over 256 KB it opens read-only" in status(pane)
        assert "ctrl+e to edit all of it in $EDITOR" in status(pane)
        assert any(toast.startswith("'big_value' is 759 KB of JSON") for toast in toasts(app))
        title = str(pane.query_one("#wm-title", Static).render())
        assert "read-only: 759 KB" in title
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("shown read-only (759 KB)" in toast for toast in toasts(app))
        assert big_store.get_working_memory(SESSION, "big_value").version == 1
        # A small key next to it is an ordinary editable value.
        pane.keys_table.focus()
        pane.keys_table.move_cursor(row=pane.keys_table.get_row_index("notes"))
        await settle(pilot)
        assert pane.loaded_key == "notes" and not pane.editor.read_only


async def test_editor_round_trip_saves_the_whole_value(
    big_store, make_app, settle, monkeypatch, tmp_path
):
    log = use_editor(monkeypatch, tmp_path, "append")
    app = make_app(big_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(app, pilot, settle)
        pane.keys_table.focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        runs = editor_runs(log)
        assert len(runs) == 1 and runs[0]["mode"] == 0o600  # a private temp file
        stored = big_store.get_working_memory(SESSION, "big_value")
        assert stored.version == 2
        assert stored.value == [*BIG, {"id": "added in the editor"}]
        assert not Path(runs[0]["path"]).exists()  # saved: the temp file is gone
        assert "Saved 'big_value' as v2 from" in status(pane)
        assert pane.editor.read_only and pane.loaded_key == "big_value"


async def test_invalid_json_from_the_editor_is_not_saved_and_kept(
    big_store, make_app, settle, monkeypatch, tmp_path
):
    log = use_editor(monkeypatch, tmp_path, "break")
    app = make_app(big_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(app, pilot, settle)
        pane.keys_table.focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        dialog = await wait_for_screen(pilot, ConfirmScreen)
        title = str(dialog.query_one(".dialog-title", Static).render())
        assert title.startswith("Not saved: invalid JSON at line ")
        await pilot.press("n")
        await settle(pilot)
        path = Path(editor_runs(log)[0]["path"])
        assert path.exists() and path.read_text().endswith(",]")  # nothing typed is lost
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f"Your text is kept in {path}" in status(pane)
        assert big_store.get_working_memory(SESSION, "big_value").version == 1
        path.unlink()


async def test_a_change_elsewhere_meanwhile_is_not_overwritten(
    big_store, make_app, settle, monkeypatch, tmp_path
):
    log = use_editor(monkeypatch, tmp_path, "append")
    app = make_app(big_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(app, pilot, settle)
        big_store.set_working_memory(SESSION, "big_value", ["theirs"])  # v2, elsewhere
        pane.keys_table.focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert big_store.get_working_memory(SESSION, "big_value").value == ["theirs"]
        path = Path(editor_runs(log)[0]["path"])
        assert path.exists()
        assert any(
            "changed elsewhere since v1 (now v2)" in toast and str(path) in toast
            for toast in toasts(app)
        )
        path.unlink()


async def test_without_an_editor_it_says_how_to_set_one(big_store, make_app, settle, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = make_app(big_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(app, pilot, settle)
        pane.keys_table.focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert any("Set $EDITOR (or $VISUAL)" in toast for toast in toasts(app))
