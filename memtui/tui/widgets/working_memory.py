"""The working-memory editor: a session's keys beside a JSON editor for the selected value.

Safety rules this pane keeps:
- malformed JSON is never saved and never lost: the message names line and column and
  the editor text stays exactly as typed;
- every save carries the version that was loaded; a conflict shows both versions and the
  user chooses (nothing is overwritten silently);
- unsaved edits are never dropped: switching keys asks, switching sessions keeps them as a
  draft that comes back when the user returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import ContentSwitcher, DataTable, Label, Static, TextArea

from memtui.domain.errors import MemtuiError, VersionConflictError
from memtui.domain.models import Capability, ChangeKind, CommitResult, Session, WorkingMemoryItem
from memtui.domain.safe_text import visible_line
from memtui.domain.wording import plural
from memtui.tui.external_editor import EditResult, editor_command, read_edit, run_editor, write_temp
from memtui.tui.messages import StoreChanged
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.screens.working_memory_dialogs import (
    CommitModal,
    CommitOptions,
    ConflictModal,
    ConflictSide,
    UnsavedEditsModal,
)
from memtui.tui.stored_text import Part, block, cell, join, line
from memtui.tui.unsupported import refuse_unsupported
from memtui.tui.value_text import (
    LARGE_VALUE_CHARS,
    ValueText,
    describe_size,
    format_value,
    value_text,
)
from memtui.tui.widgets.list_table import ListTable
from memtui.tui.widgets.pane import SessionPane

# Actions bound to plain letters: they only make sense (and only fire) while the key
# list, not the JSON editor, has focus.
_LIST_ACTIONS = frozenset(
    {"add_key", "rename_key", "delete_key", "set_importance", "commit", "history"}
)


def local_time(value: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Times are UTC inside memtui and shown in the user's local time."""
    return value.astimezone().strftime(fmt)


def describe_json_error(error: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"


def describe_commit(result: CommitResult, min_importance: float) -> str:
    """One line saying what a commit created, deduplicated and skipped."""
    parts = [f"Committed: {plural(result.memories_created, 'memory')} created"]
    if result.created_keys:
        parts[0] += f" ({', '.join(result.created_keys)})"
    parts.append(f"{result.memories_deduplicated} deduplicated")
    if result.deduplicated_keys:
        parts[-1] += f" ({', '.join(result.deduplicated_keys)})"
    parts.append(f"{len(result.skipped_keys)} skipped below importance {min_importance:g}")
    if result.skipped_keys:
        parts[-1] += f" ({', '.join(result.skipped_keys)})"
    return " · ".join(parts)


class JsonEditor(TextArea):
    """The value editor: tab indents; escape goes back to the key list (rather than on
    to whatever widget happens to be next on the screen)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            pane = self.query_ancestor(WorkingMemoryPane)
            pane.keys_table.focus()
            return
        await super()._on_key(event)


@dataclass(frozen=True, slots=True)
class _Draft:
    """Unsaved edits kept while the user looks at another session."""

    base: WorkingMemoryItem
    text: str


class WorkingMemoryPane(SessionPane):
    """Pane 3: edit a session's working memory (key -> JSON value)."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    HELP = """\
# Working memory

The selected session's working memory: each **key** holds a JSON value with an
**importance** (0 to 1) and a **version** that increases on every write.

| key | action |
|---|---|
| ↑ ↓ | choose a key (the list shows importance and version) |
| enter / tab | edit its value |
| **ctrl+s** | save the value |
| esc | back to the key list |
| a | add a key |
| r | rename the key |
| d | delete the key (asks first) |
| i | set its importance |
| c | commit working memory to long-term memory |
| ctrl+e | edit the value in $EDITOR (checked as JSON when you return) |

- **Malformed JSON is never saved.** The message names the line and column, the
  cursor jumps there, and your text stays exactly as you typed it.
- **Nothing is overwritten silently.** Every save says which version you edited. If
  another process changed the key meanwhile, you see both versions side by side and
  choose: *keep mine*, *take theirs* or *keep editing*.
- Unsaved edits are marked `●`. Moving to another key asks first; switching sessions
  keeps them as a draft until you come back.
- **Large values** (over 256 KB of JSON) open read-only, showing their start, so the
  screen stays quick; ctrl+e edits the whole value in $EDITOR (or $VISUAL). The text is
  checked as JSON when the editor exits and saved with the version you started from.
- **Commit** turns items with importance ≥ `min_importance` into long-term memories,
  optionally skipping values that are already stored, and lists what it created.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="working_memory.save"),
        Binding("a", "add_key", "Add key", id="working_memory.add"),
        Binding("r", "rename_key", "Rename", id="working_memory.rename"),
        Binding("d", "delete_key", "Delete", id="working_memory.delete"),
        Binding("h", "history", "History", id="working-memory-history"),
        Binding("i", "set_importance", "Importance", id="working_memory.importance"),
        Binding("c", "commit", "Commit", id="working_memory.commit"),
        Binding("ctrl+e", "edit_in_editor", "$EDITOR", id="working_memory.external_editor"),
    ]

    def __init__(self) -> None:
        super().__init__(id="working-memory")
        self._session_id: str | None = None
        self._items: dict[str, WorkingMemoryItem] = {}
        self._loaded: WorkingMemoryItem | None = None  # the version the editor is based on
        self._loaded_text = ""
        self._loaded_large: ValueText | None = None  # a value shown as a preview
        self._texts: dict[tuple[str, int], ValueText] = {}  # formatted by the worker
        self._told_large: tuple[str, int] | None = None
        self._store_item: WorkingMemoryItem | None = None  # newer store version, if any
        self._deleted_elsewhere = False
        self._drafts: dict[str, _Draft] = {}  # session id -> unsaved edits
        self._load_generation = 0
        self._supported: bool | None = None

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="wm-message", id="wm-switcher"):
            yield Static("Select a session to see its working memory.", id="wm-message")
            with Horizontal(id="wm-main"):
                with Vertical(id="wm-left"):
                    yield ListTable(id="wm-keys", cursor_type="row", zebra_stripes=True)
                    yield Static("", id="wm-commit-result")
                with Vertical(id="wm-right"):
                    yield Label("", id="wm-title")
                    editor = JsonEditor(
                        "",
                        id="wm-editor",
                        show_line_numbers=True,
                        tab_behavior="indent",
                        soft_wrap=False,
                        read_only=True,
                        placeholder="Select a key, or press a to add one.",
                    )
                    editor.indent_width = 2
                    # JSON highlighting only if tree-sitter happens to be installed: we do
                    # not pull in a native dependency (and snapshot churn) for colour.
                    if "json" in editor.available_languages:
                        editor.language = "json"
                    yield editor
                    with Horizontal(id="wm-statusbar"):
                        yield Static("", id="wm-status")
                        yield Static("", id="wm-cursor")

    def on_mount(self) -> None:
        table = self.query_one("#wm-keys", DataTable)
        table.add_column("key", key="key")
        table.add_column("imp", key="importance")
        table.add_column("ver", key="version")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#wm-editor", TextArea)

    @property
    def keys_table(self) -> DataTable[str]:
        return self.query_one("#wm-keys", DataTable)

    # --- state -------------------------------------------------------------------------

    @property
    def loaded_key(self) -> str | None:
        return self._loaded.key if self._loaded else None

    @property
    def is_dirty(self) -> bool:
        return self._loaded is not None and self.editor.text != self._loaded_text

    def _show_message(self, text: str | Content) -> None:
        # Messages quote stored ids and errors: never markup.
        self.query_one("#wm-message", Static).update(
            text if isinstance(text, Content) else block(text)
        )
        self.query_one("#wm-switcher", ContentSwitcher).current = "wm-message"

    def _set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#wm-status", Static)
        status.update(block(text))  # it quotes keys and errors: never markup
        status.set_class(error, "-error")

    def _refresh_title(self) -> None:
        title = self.query_one("#wm-title", Label)
        item = self._loaded
        if item is None:
            title.update("no key selected")
            return
        # What needs attention first, the facts after; the title wraps rather than
        # cutting "● modified" or "⚠ changed elsewhere" off (issue 9 item 7).
        parts: list[Part] = [line(item.key, "b")]  # stored text: never markup
        if self._loaded_large is not None:
            parts.append((f"read-only: {self._loaded_large.size_label}", "b $warning"))
        if self.is_dirty:
            parts.append(("● modified", "b $warning"))
        if self._deleted_elsewhere:
            parts.append(("⚠ deleted elsewhere: saving asks first", "b $error"))
        elif self._store_item is not None:
            parts.append(
                (
                    f"⚠ changed elsewhere (now v{self._store_item.version}): saving asks first",
                    "b $error",
                )
            )
        parts += [
            f"v{item.version}",
            f"importance {item.importance:.2f}",
            f"updated {local_time(item.updated_at)}",
        ]
        title.update(join(*parts, separator=" · "))

    # --- loading -----------------------------------------------------------------------

    def watch_session(self, session: Session | None) -> None:
        new_id = session.id if session else None
        if new_id == self._session_id and new_id is not None:
            self._reload()  # the same session, refreshed: keep the editor as it is
            return
        self._stash_draft()
        self._session_id = new_id
        self._items = {}
        self._clear_editor()
        self.keys_table.clear()
        self.query_one("#wm-commit-result", Static).update("")
        if new_id is None:
            self._show_message("Select a session to see its working memory.")
            return
        self._show_message(join("Loading working memory of ", line(new_id), "…"))
        self._reload()

    def _stash_draft(self) -> None:
        if self._session_id and self._loaded and self.is_dirty:
            self._drafts[self._session_id] = _Draft(self._loaded, self.editor.text)
            self.notify(
                f"Kept your unsaved edits to {self._loaded.key!r} as a draft; they come "
                f"back when you return to {self._session_id}.",
                title="Working memory",
            )

    def _reload(self) -> None:
        if self._session_id is None:
            return
        self._load_generation += 1
        self._load_worker(self._session_id, self._load_generation)

    @work(thread=True, exclusive=True, group="working-memory-load", exit_on_error=False)
    def _load_worker(self, session_id: str, generation: int) -> None:
        try:
            capabilities = self.backend.capabilities()
            if Capability.WORKING_MEMORY not in capabilities:
                self.deliver(self._show_unsupported, session_id)
                return
            items = self.backend.list_working_memory(session_id)
        except MemtuiError as error:
            self.deliver(self._load_failed, session_id, generation, error)
            return
        # Formatting is the slow part for a large value: here, not on the UI thread.
        texts = {(item.key, item.version): value_text(item.value) for item in items}
        self.deliver(self._apply_items, session_id, generation, items, texts)

    def _show_unsupported(self, session_id: str) -> None:
        self._supported = False
        if session_id == self._session_id:
            self._show_message(
                "This backend has no working memory.\n\n"
                f"{self.backend.describe()} speaks plain Memtrace, which stores memories "
                "and sessions but no per-session key → JSON values. Use a memtui store or "
                "`memtui serve` to edit working memory."
            )

    def _load_failed(self, session_id: str, generation: int, error: MemtuiError) -> None:
        if session_id != self._session_id or generation != self._load_generation:
            return
        if not self._items:
            self._show_message(f"Could not load working memory: {error}")
        self.report_error(error, action="Working memory")

    def _apply_items(
        self,
        session_id: str,
        generation: int,
        items: list[WorkingMemoryItem],
        texts: dict[tuple[str, int], ValueText],
    ) -> None:
        if session_id != self._session_id or generation != self._load_generation:
            return  # stale: the session changed or a newer load is under way
        self._supported = True
        self._texts = texts
        self._items = {item.key: item for item in items}
        self.query_one("#wm-switcher", ContentSwitcher).current = "wm-main"
        if self._loaded is not None:
            self._reconcile_loaded()
        if self._loaded is None:
            draft = self._drafts.pop(session_id, None)
            if draft is not None:
                self._open_draft(draft)
            elif items:
                self._open_item(items[0])
            else:
                self._set_status("No working memory yet: press a to add a key.")
        self._rebuild_table()
        self._refresh_title()

    def _reconcile_loaded(self) -> None:
        """Another writer may have changed the key we show: reload it if nothing is
        unsaved, otherwise mark it so the save goes through the conflict flow."""
        assert self._loaded is not None
        current = self._items.get(self._loaded.key)
        if current is None:
            if self.is_dirty:
                self._deleted_elsewhere = True
                self._store_item = None
            else:
                key = self._loaded.key
                self._clear_editor()
                self._set_status(f"{key!r} was deleted elsewhere.")
            return
        self._deleted_elsewhere = False
        if current.version == self._loaded.version:
            self._store_item = None
            self._loaded = current
            return
        if self.is_dirty:
            self._store_item = current
        else:
            self._open_item(current, keep_cursor=True)
            self._set_status(f"Reloaded {current.key!r}: v{current.version} was written elsewhere.")

    def _rebuild_table(self) -> None:
        table = self.keys_table
        table.clear()
        dirty_key = self.loaded_key if self.is_dirty else None
        for item in self._items.values():
            table.add_row(
                _key_cell(item.key, dirty=item.key == dirty_key),
                f"{item.importance:.2f}",
                str(item.version),
                key=item.key,
            )
        self._move_table_cursor()

    def _move_table_cursor(self) -> None:
        table = self.keys_table
        key = self.loaded_key
        if key is not None and key in self._items:
            table.move_cursor(row=table.get_row_index(key), animate=False)

    # --- the editor --------------------------------------------------------------------

    def _clear_editor(self) -> None:
        self._loaded = None
        self._loaded_text = ""
        self._loaded_large = None
        self._store_item = None
        self._deleted_elsewhere = False
        editor = self.editor
        editor.load_text("")
        editor.read_only = True
        self._set_status("")
        self._refresh_title()

    def _open_item(self, item: WorkingMemoryItem, *, keep_cursor: bool = False) -> None:
        editor = self.editor
        cursor = editor.cursor_location
        self._loaded = item
        shown = self._texts.get((item.key, item.version)) or value_text(item.value)
        self._loaded_text = shown.text
        self._loaded_large = shown if shown.large else None
        self._store_item = None
        self._deleted_elsewhere = False
        editor.read_only = shown.large
        editor.load_text(self._loaded_text)
        if keep_cursor:
            row = min(cursor[0], editor.document.line_count - 1)
            editor.cursor_location = (row, cursor[1])
        if shown.large:
            why = (
                f"{item.key!r} is {shown.size_label} of JSON: over "
                f"{describe_size(LARGE_VALUE_CHARS)} it opens read-only, showing its start. "
                "Press ctrl+e to edit all of it in $EDITOR."
            )
            self._set_status(why)
            if self._told_large != (item.key, item.version):  # once, in full
                self._told_large = (item.key, item.version)
                self.notify(why, title="Large value", timeout=8)
        else:
            self._set_status("")
        self._refresh_title()
        self._mark_dirty_row()

    def _open_draft(self, draft: _Draft) -> None:
        self._open_item(draft.base)
        self.editor.load_text(draft.text)
        current = self._items.get(draft.base.key)
        if current is None:
            self._deleted_elsewhere = True
        elif current.version != draft.base.version:
            self._store_item = current
        self._set_status(f"Restored your unsaved edits to {draft.base.key!r}.")
        self._refresh_title()

    @on(TextArea.Changed, "#wm-editor")
    def _editor_changed(self) -> None:
        self._refresh_title()
        self._mark_dirty_row()

    @on(TextArea.SelectionChanged, "#wm-editor")
    def _cursor_moved(self, event: TextArea.SelectionChanged) -> None:
        row, column = event.selection.end
        self.query_one("#wm-cursor", Static).update(f"Ln {row + 1}, Col {column + 1}")

    def _mark_dirty_row(self) -> None:
        key = self.loaded_key
        if key is None or key not in self._items:
            return
        label = _key_cell(key, dirty=self.is_dirty)
        table = self.keys_table
        try:
            if table.get_cell(key, "key") != label:
                table.update_cell(key, "key", label, update_width=True)
        except Exception:  # the row is being rebuilt; the rebuild sets the mark
            pass

    @on(DataTable.RowHighlighted, "#wm-keys")
    def _key_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != event.data_table.cursor_row:
            return  # stale: the table was rebuilt or the cursor moved on since
        key = event.row_key.value
        if key is None or key == self.loaded_key:
            return
        self._request_open(key)

    @on(DataTable.RowSelected, "#wm-keys")
    def _key_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value == self.loaded_key:
            self.editor.focus()

    def _request_open(self, key: str) -> None:
        item = self._items.get(key)
        if item is None:
            return
        if not self.is_dirty:
            self._open_item(item)
            return
        assert self._loaded is not None

        def decided(choice: str | None) -> None:
            if choice == "discard":
                fresh = self._items.get(key)
                if fresh is not None:
                    self._open_item(fresh)
                self._rebuild_table()
            elif choice == "save":
                self.action_save(then_open=key)
            else:
                self._move_table_cursor()
                self.editor.focus()

        self.app.push_screen(UnsavedEditsModal(self._loaded.key, key), decided)

    # --- save and conflicts ------------------------------------------------------------

    def action_save(self, then_open: str | None = None) -> None:
        if self._session_id is None or self._loaded is None:
            self.notify("Nothing to save: select a key or press a to add one.")
            return
        if self._loaded_large is not None:
            self.notify(
                f"{self._loaded.key!r} is shown read-only ({self._loaded_large.size_label}). "
                "Press ctrl+e to edit it in $EDITOR.",
                severity="warning",
            )
            return
        text = self.editor.text
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            message = f"Not saved: {describe_json_error(error)}"
            self._set_status(message, error=True)
            self.notify(message + ". Your text is unchanged.", severity="error", timeout=8)
            editor = self.editor
            row = max(0, min(error.lineno - 1, editor.document.line_count - 1))
            editor.cursor_location = (row, max(0, error.colno - 1))
            editor.focus()
            self._move_table_cursor()
            return
        # Always the version the edit started from: a change (or deletion) made
        # elsewhere since then comes back as a conflict, never a silent overwrite.
        expected = self._loaded.version
        self._set_status(f"Saving {self._loaded.key!r}…")
        self._save_worker(self._session_id, self._loaded.key, value, text, expected, then_open)

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _save_worker(
        self,
        session_id: str,
        key: str,
        value: Any,
        text: str,
        expected_version: int,
        then_open: str | None,
    ) -> None:
        try:
            item = self.backend.set_working_memory(
                session_id, key, value, expected_version=expected_version
            )
        except VersionConflictError as conflict:
            self.deliver(self._on_conflict, session_id, key, text, conflict)
            return
        except MemtuiError as error:
            self.deliver(self._save_failed, session_id, key, error)
            return
        self.deliver(self._on_saved, session_id, item, text, then_open)

    def _save_failed(self, session_id: str, key: str, error: MemtuiError) -> None:
        if session_id == self._session_id:
            self._set_status(f"Not saved: {error}. Your edits are still here.", error=True)
        self.report_error(error, action=f"Saving {key!r} failed (your edits are kept)")

    def _on_saved(
        self, session_id: str, item: WorkingMemoryItem, text: str, then_open: str | None
    ) -> None:
        if session_id != self._session_id:
            self.notify(f"Saved {item.key!r} of {session_id} as v{item.version}.")
            return
        self._items[item.key] = item
        if self._loaded is not None and self._loaded.key == item.key:
            self._loaded = item
            self._loaded_text = text  # what was saved: typing since then stays "modified"
            self._store_item = None
            self._deleted_elsewhere = False
        self._set_status(f"Saved {item.key!r} as v{item.version}.")
        if then_open is not None and then_open in self._items:
            self._open_item(self._items[then_open])
        self._rebuild_table()
        self._refresh_title()

    def _on_conflict(
        self, session_id: str, key: str, text: str, conflict: VersionConflictError
    ) -> None:
        if session_id != self._session_id or key != self.loaded_key:
            self.report_error(conflict, action=f"Not saved: {key!r}")
            return
        current = conflict.current
        mine = ConflictSide(f"Yours (edited from v{conflict.expected_version})", text)
        if current is None:
            theirs = ConflictSide("Theirs: the key was deleted", "")
            explanation = f"Another writer deleted {key!r} after you loaded it. Nothing was saved."
        else:
            theirs = ConflictSide(
                f"Theirs: v{current.version}, {local_time(current.updated_at)}, "
                f"importance {current.importance:.2f}",
                format_value(current.value),
            )
            explanation = (
                f"Another writer saved v{current.version} of {key!r} after you loaded "
                f"v{conflict.expected_version}. Nothing was saved. Choose which to keep."
            )
        self._set_status("Not saved: version conflict.", error=True)

        def decided(choice: str | None) -> None:
            if choice == "mine":
                self._keep_mine(session_id, key, current)
            elif choice == "theirs":
                self._take_theirs(key, current)
            else:
                self._store_item = current
                self._deleted_elsewhere = current is None
                self._set_status(
                    "Not saved: the key changed elsewhere. Saving again asks again.", error=True
                )
                self._refresh_title()
                self.editor.focus()

        self.app.push_screen(ConflictModal(key, explanation, mine, theirs), decided)

    def _keep_mine(self, session_id: str, key: str, current: WorkingMemoryItem | None) -> None:
        text = self.editor.text
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:  # pragma: no cover - validated before
            self._set_status(f"Not saved: {describe_json_error(error)}", error=True)
            return
        expected = current.version if current is not None else 0
        self._set_status(f"Overwriting {key!r} (v{expected}) with your version…")
        self._save_worker(session_id, key, value, text, expected, None)

    def _take_theirs(self, key: str, current: WorkingMemoryItem | None) -> None:
        if current is None:
            self._items.pop(key, None)
            self._clear_editor()
            self._set_status(f"{key!r} was deleted elsewhere; your edits were discarded.")
        else:
            self._items[key] = current
            self._open_item(current)
            self._set_status(f"Loaded their v{current.version} of {key!r}.")
        self._rebuild_table()
        self._reload()

    # --- $EDITOR ------------------------------------------------------------------------

    def action_edit_in_editor(self) -> None:
        """The whole value in $EDITOR (any size): checked as JSON on return, saved with
        the version it was loaded at (a change elsewhere meanwhile is not overwritten)."""
        if not self._ready(need_key=True):
            return
        assert self._loaded is not None and self._session_id is not None
        command = editor_command()
        if command is None:
            self.notify(
                "Set $EDITOR (or $VISUAL) to edit values outside memtui, e.g. export EDITOR=nano.",
                severity="warning",
                timeout=8,
            )
            return
        item = self._loaded
        # Unsaved edits of a small value go along; a large value starts from the store.
        text = self.editor.text if self._loaded_large is None and self.is_dirty else None
        self._set_status(f"Opening {item.key!r} in {command[0]}…")
        self._external_prepare_worker(self._session_id, item, text, command)

    @work(thread=True, group="working-memory-external", exit_on_error=False)
    def _external_prepare_worker(
        self, session_id: str, item: WorkingMemoryItem, text: str | None, command: list[str]
    ) -> None:
        original = text if text is not None else format_value(item.value)
        try:
            path = write_temp(original, name_hint=item.key)
        except OSError as error:
            self.deliver(self._set_status, f"Could not write a temp file: {error}", error=True)
            return
        self.deliver(self._external_run, session_id, item, path, original, command)

    def _external_run(
        self,
        session_id: str,
        item: WorkingMemoryItem,
        path: Path,
        original: str,
        command: list[str],
    ) -> None:
        failure = run_editor(self.app, command, path)
        if failure is not None:
            self._external_failed(item.key, path, failure)
            return
        self._set_status(f"Checking {item.key!r}…")
        self._external_save_worker(session_id, item, path, original, command)

    @work(thread=True, group="working-memory-external", exit_on_error=False)
    def _external_save_worker(
        self,
        session_id: str,
        item: WorkingMemoryItem,
        path: Path,
        original: str,
        command: list[str],
    ) -> None:
        edit = read_edit(path)
        if edit.error is None and edit.text == original:
            path.unlink(missing_ok=True)
            self.deliver(self._set_status, f"No changes to {item.key!r}.")
            return
        if edit.error is not None:
            self.deliver(self._external_invalid, session_id, item, path, original, command, edit)
            return
        try:
            saved = self.backend.set_working_memory(
                session_id, item.key, edit.value, expected_version=item.version
            )
        except VersionConflictError as conflict:
            now = f"now v{conflict.current.version}" if conflict.current else "now deleted"
            reason = f"{item.key!r} changed elsewhere since v{item.version} ({now})"
            self.deliver(self._external_failed, item.key, path, reason)
            self.deliver(self._reload)
            return
        except MemtuiError as error:
            self.deliver(self._external_failed, item.key, path, str(error))
            return
        path.unlink(missing_ok=True)
        shown = value_text(saved.value)
        self.deliver(self._external_saved, session_id, saved, shown, command[0])

    def _external_invalid(
        self,
        session_id: str,
        item: WorkingMemoryItem,
        path: Path,
        original: str,
        command: list[str],
        edit: EditResult,
    ) -> None:
        message = f"Not saved: {edit.error}."
        self._set_status(f"{message} Your text is kept in {path}.", error=True)

        def again(yes: bool | None) -> None:
            if yes:
                self._external_run(session_id, item, path, original, command)

        self.app.push_screen(
            ConfirmScreen(
                message,
                f"Your text is kept in {path}. Edit it again in {command[0]}?",
                confirm_label="Edit again",
            ),
            again,
        )

    def _external_failed(self, key: str, path: Path, reason: str) -> None:
        message = f"{key!r} not saved: {reason}. Your text is kept in {path}."
        self._set_status(message, error=True)
        self.notify(message, severity="error", timeout=10)

    def _external_saved(
        self, session_id: str, item: WorkingMemoryItem, shown: ValueText, editor: str
    ) -> None:
        if session_id != self._session_id:
            self.notify(f"Saved {item.key!r} of {session_id} as v{item.version}.")
            return
        self._items[item.key] = item
        self._texts[(item.key, item.version)] = shown
        if self.loaded_key == item.key:
            self._open_item(item)
        if shown.large:
            self._set_status(
                f"Saved {item.key!r} as v{item.version} from {editor} (read-only here)."
            )
        else:
            self._set_status(f"Saved {item.key!r} as v{item.version} from {editor}.")
        self._rebuild_table()
        self._refresh_title()

    # --- key actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Letters type into the editor there, so those actions are off (and hidden).
        return not (action in _LIST_ACTIONS and self.app.focused is self.editor)

    def _ready(self, *, need_key: bool = False) -> bool:
        if self._session_id is None:
            self.notify("Select a session first.", severity="warning")
            return False
        if self._supported is False:
            self.notify("This backend has no working memory.", severity="warning")
            return False
        if need_key and self._loaded is None:
            self.notify("Select a key first.", severity="warning")
            return False
        return True

    def action_add_key(self) -> None:
        if not self._ready():
            return

        def chosen(key: str | None) -> None:
            if key is None:
                return
            key = key.strip()
            if not key:
                self.notify("A key needs a name.", severity="warning")
                return
            if key in self._items:
                self.notify(f"{key!r} already exists.", severity="warning")
                self._request_open(key)
                return
            assert self._session_id is not None
            self._add_worker(self._session_id, key)

        self.app.push_screen(
            PromptScreen(
                "Add a working-memory key",
                placeholder="e.g. current_plan",
                hint="Its value starts as {} and opens in the editor.",
                submit_label="Add",
            ),
            chosen,
        )

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _add_worker(self, session_id: str, key: str) -> None:
        try:
            item = self.backend.set_working_memory(session_id, key, {}, expected_version=0)
        except MemtuiError as error:
            self.deliver(self.report_error, error, action=f"Adding {key!r}")
            return
        self.deliver(self._on_added, session_id, item)

    def _on_added(self, session_id: str, item: WorkingMemoryItem) -> None:
        if session_id != self._session_id:
            return
        self._items[item.key] = item
        self._items = dict(sorted(self._items.items()))
        if self.is_dirty:
            self.notify(
                f"Added {item.key!r}. Your unsaved edits to {self.loaded_key!r} are still open."
            )
        else:
            self._open_item(item)
            if self.editor.text == "{}":
                self.editor.cursor_location = (0, 1)  # type inside the braces at once
            self.editor.focus()
            self._set_status(f"Added {item.key!r}.")
        self._rebuild_table()

    def action_rename_key(self) -> None:
        if not self._ready(need_key=True) or refuse_unsupported(
            self, Capability.WORKING_MEMORY_RENAME
        ):
            return
        assert self._loaded is not None
        old = self._loaded
        # The input shows the key with its control characters visible (raw, they would
        # reach the terminal); submitted unchanged, that still means "the same key".
        shown_key = visible_line(old.key)

        def chosen(new_key: str | None) -> None:
            if new_key is None:
                return
            new_key = new_key.strip()
            if not new_key or new_key in (old.key, shown_key.strip()):
                return
            assert self._session_id is not None
            self._rename_worker(self._session_id, old.key, new_key, old.version)

        hint = (
            "Its control characters are shown as symbols (␛ is ESC); a new name keeps "
            "what you type."
            if shown_key != old.key
            else ""
        )
        self.app.push_screen(
            PromptScreen(f"Rename {old.key!r}", value=shown_key, hint=hint, submit_label="Rename"),
            chosen,
        )

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _rename_worker(self, session_id: str, key: str, new_key: str, version: int) -> None:
        try:
            item = self.backend.rename_working_memory(
                session_id, key, new_key, expected_version=version
            )
        except VersionConflictError as conflict:
            self.deliver(self._write_conflicted, key, "renamed", conflict)
            return
        except MemtuiError as error:
            self.deliver(self.report_error, error, action=f"Renaming {key!r}")
            return
        self.deliver(self._on_renamed, session_id, key, item)

    def _on_renamed(self, session_id: str, old_key: str, item: WorkingMemoryItem) -> None:
        if session_id != self._session_id:
            return
        self._items.pop(old_key, None)
        self._items[item.key] = item
        self._items = dict(sorted(self._items.items()))
        if self.loaded_key == old_key:
            self._loaded = item  # the editor text (and any unsaved edit) stays
        self._set_status(f"Renamed {old_key!r} to {item.key!r}.")
        self._rebuild_table()
        self._refresh_title()

    def _write_conflicted(self, key: str, verb: str, conflict: VersionConflictError) -> None:
        now = f"now v{conflict.current.version}" if conflict.current else "now deleted"
        self.notify(
            f"{key!r} was not {verb}: another writer changed it since you loaded it "
            f"({now}). The list has been reloaded.",
            severity="warning",
            timeout=8,
        )
        self._reload()

    def action_delete_key(self) -> None:
        if not self._ready(need_key=True) or refuse_unsupported(
            self, Capability.WORKING_MEMORY_DELETE
        ):
            return
        assert self._loaded is not None
        item = self._loaded
        warning = " Your unsaved edits will be lost." if self.is_dirty else ""

        def confirmed(yes: bool | None) -> None:
            if yes and self._session_id is not None:
                self._delete_worker(self._session_id, item.key, item.version)

        self.app.push_screen(
            ConfirmScreen(
                "Delete working-memory key",
                f"Delete {item.key!r} (v{item.version}) from {self._session_id}?{warning}",
            ),
            confirmed,
        )

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _delete_worker(self, session_id: str, key: str, version: int) -> None:
        try:
            self.backend.delete_working_memory(session_id, key, expected_version=version)
        except VersionConflictError as conflict:
            self.deliver(self._write_conflicted, key, "deleted", conflict)
            return
        except MemtuiError as error:
            self.deliver(self.report_error, error, action=f"Deleting {key!r}")
            return
        self.deliver(self._on_deleted, session_id, key)

    def _on_deleted(self, session_id: str, key: str) -> None:
        if session_id != self._session_id:
            return
        self._items.pop(key, None)
        self.services.record_delete("working_memory", [key], session_id)
        if self.loaded_key == key:
            self._clear_editor()
            if self._items:
                self._open_item(next(iter(self._items.values())))
        self._set_status(f"Deleted {key!r}.")
        self._rebuild_table()

    def action_history(self) -> None:
        """The history of the key being shown (h)."""
        if not self._ready(need_key=True) or self._session_id is None:
            return
        assert self._loaded is not None
        from memtui.domain.history import HistoryTarget

        self.services.show_history(HistoryTarget.key(self._session_id, self._loaded.key))

    def action_set_importance(self) -> None:
        if not self._ready(need_key=True) or refuse_unsupported(
            self, Capability.WORKING_MEMORY_IMPORTANCE
        ):
            return
        assert self._loaded is not None
        item = self._loaded

        def parse(text: str) -> float:
            # Invalid input keeps the dialog open with the message, like every form.
            try:
                importance = float(text.strip())
            except ValueError:
                importance = -1.0
            if not 0.0 <= importance <= 1.0:
                raise ValueError(f"Importance must be a number from 0 to 1, not {text.strip()!r}.")
            return importance

        def chosen(importance: float | None) -> None:
            if importance is not None and self._session_id is not None:
                self._importance_worker(self._session_id, item, importance)

        self.app.push_screen(
            PromptScreen(
                f"Importance of {item.key!r}",
                value=f"{item.importance:g}",
                hint="From 0 to 1. Commit keeps items at or above its min_importance.",
                submit_label="Set",
                parse=parse,
            ),
            chosen,
        )

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _importance_worker(
        self, session_id: str, item: WorkingMemoryItem, importance: float
    ) -> None:
        try:
            # The stored value, not the editor's: unsaved edits stay unsaved.
            updated = self.backend.set_working_memory(
                session_id,
                item.key,
                item.value,
                importance=importance,
                expected_version=item.version,
            )
        except VersionConflictError as conflict:
            self.deliver(self._write_conflicted, item.key, "given a new importance", conflict)
            return
        except MemtuiError as error:
            self.deliver(self.report_error, error, action="Setting importance")
            return
        self.deliver(self._on_importance_set, session_id, updated)

    def _on_importance_set(self, session_id: str, item: WorkingMemoryItem) -> None:
        if session_id != self._session_id:
            return
        self._items[item.key] = item
        if self.loaded_key == item.key:
            self._loaded = item
        self._set_status(f"Importance of {item.key!r} is now {item.importance:.2f}.")
        self._rebuild_table()
        self._refresh_title()

    def action_commit(self) -> None:
        if not self._ready():
            return
        assert self._session_id is not None
        session_id = self._session_id

        def chosen(options: CommitOptions | None) -> None:
            if options is not None:
                self._commit_worker(session_id, options)

        self.app.push_screen(CommitModal(session_id), chosen)

    @work(thread=True, group="working-memory-write", exit_on_error=False)
    def _commit_worker(self, session_id: str, options: CommitOptions) -> None:
        try:
            if Capability.COMMIT not in self.backend.capabilities():
                self.deliver(
                    self.notify,
                    "This backend cannot commit working memory to long-term memory.",
                    severity="warning",
                )
                return
            result = self.backend.commit_working_memory(
                session_id,
                min_importance=options.min_importance,
                deduplicate=options.deduplicate,
            )
        except MemtuiError as error:
            self.deliver(self.report_error, error, action="Commit")
            return
        self.deliver(self._on_committed, session_id, result, options)

    def _on_committed(self, session_id: str, result: CommitResult, options: CommitOptions) -> None:
        summary = describe_commit(result, options.min_importance)
        if self.is_dirty:
            summary += f" · unsaved edits to {self.loaded_key!r} were not included"
        if session_id == self._session_id:
            self.query_one("#wm-commit-result", Static).update(block(summary))
        self.notify(summary, title="Commit to long-term memory", timeout=10)

    # --- live refresh ------------------------------------------------------------------

    def on_store_changed(self, message: StoreChanged) -> None:
        session_id = self._session_id
        if session_id is None or self._supported is False:
            return
        if message.full_refresh or any(
            change.session_id == session_id
            and change.kind in (ChangeKind.WORKING_MEMORY_CHANGED, ChangeKind.SESSION_DELETED)
            for change in message.changes
        ):
            self._reload()

    # --- command palette ---------------------------------------------------------------

    def palette_commands(self) -> Iterable[SystemCommand]:
        return [
            SystemCommand("Working memory: save value", "Save the JSON (ctrl+s)", self.action_save),
            SystemCommand("Working memory: add key", "Add a key (a)", self.action_add_key),
            SystemCommand(
                "Working memory: edit in $EDITOR",
                "Edit the whole value in $EDITOR, checked as JSON on return (ctrl+e)",
                self.action_edit_in_editor,
            ),
            SystemCommand(
                "Working memory: rename key", "Rename the key (r)", self.action_rename_key
            ),
            SystemCommand(
                "Working memory: delete key", "Delete the key (d)", self.action_delete_key
            ),
            SystemCommand(
                "Working memory: set importance",
                "Set the key's importance (i)",
                self.action_set_importance,
            ),
            SystemCommand(
                "Working memory: commit to long-term memory",
                "Turn important items into memories (c)",
                self.action_commit,
            ),
        ]


def _key_cell(key: str, *, dirty: bool) -> Text:
    """A key in the key list: stored text, so a Text cell (a str cell is markup)."""
    return cell(f"● {key}" if dirty else key)
