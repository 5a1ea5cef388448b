"""The working-memory pane's view and its save flow (the key actions and $EDITOR are in
`working_memory.py`, which builds the pane on this class).

The state it decides with (loaded version, drafts, changes elsewhere, load generation)
is a plain `WorkingMemoryState` (memtui/tui/state/working_memory.py); this class owns
the widgets and the editor text, and runs every backend call through `call_backend`
(`run_backend_call`: a thread worker, results and errors back on the UI thread).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import ContentSwitcher, DataTable, Label, Static, TextArea

from memtui.domain.errors import MemtuiError, VersionConflictError
from memtui.domain.models import Capability, ChangeKind, Session, WorkingMemoryItem
from memtui.tui.messages import StoreChanged
from memtui.tui.screens.working_memory_dialogs import (
    ConflictModal,
    ConflictSide,
    UnsavedEditsModal,
)
from memtui.tui.state.working_memory import (
    Draft,
    Reconciled,
    WorkingMemoryState,
    describe_json_error,
    expected_after_conflict,
    local_time,
)
from memtui.tui.stored_text import Part, block, cell, join, line
from memtui.tui.value_text import (
    LARGE_VALUE_CHARS,
    ValueText,
    describe_size,
    format_value,
    value_text,
)
from memtui.tui.widgets.list_table import ListTable
from memtui.tui.widgets.pane import SessionPane

if TYPE_CHECKING:
    from memtui.backend import Backend

Loaded = tuple[list[WorkingMemoryItem], dict[tuple[str, int], ValueText]]

LOAD_GROUP = "working-memory-load"
WRITE_GROUP = "working-memory-write"


class JsonEditor(TextArea):
    """The value editor: tab indents; escape goes back to the key list (rather than on
    to whatever widget happens to be next on the screen)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            pane = self.query_ancestor(WorkingMemoryBase)
            pane.keys_table.focus()
            return
        await super()._on_key(event)


class WorkingMemoryBase(SessionPane):
    """A session's keys beside a JSON editor for the selected value, and saving it."""

    def __init__(self) -> None:
        super().__init__(id="working-memory")
        self.state = WorkingMemoryState()

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
        return self.state.loaded_key

    @property
    def is_dirty(self) -> bool:
        return self.state.is_dirty(self.editor.text)

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
        state = self.state
        item = state.loaded
        if item is None:
            title.update("no key selected")
            return
        # What needs attention first, the facts after; the title wraps rather than
        # cutting "● modified" or "⚠ changed elsewhere" off (issue 9 item 7).
        parts: list[Part] = [line(item.key, "b")]  # stored text: never markup
        if state.loaded_large is not None:
            parts.append((f"read-only: {state.loaded_large.size_label}", "b $warning"))
        if self.is_dirty:
            parts.append(("● modified", "b $warning"))
        if state.deleted_elsewhere:
            parts.append(("⚠ deleted elsewhere: saving asks first", "b $error"))
        elif state.store_item is not None:
            parts.append(
                (
                    f"⚠ changed elsewhere (now v{state.store_item.version}): saving asks first",
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
        old_id = self.state.session_id
        if new_id == old_id and new_id is not None:
            self._reload()  # the same session, refreshed: keep the editor as it is
            return
        stashed = self.state.switch_session(new_id, self.editor.text)
        if stashed is not None:
            self.notify(
                f"Kept your unsaved edits to {stashed.base.key!r} as a draft; they come "
                f"back when you return to {old_id}.",
                title="Working memory",
            )
        self._clear_editor()
        self.keys_table.clear()
        self.query_one("#wm-commit-result", Static).update("")
        if new_id is None:
            self._show_message("Select a session to see its working memory.")
            return
        self._show_message(join("Loading working memory of ", line(new_id), "…"))
        self._reload()

    def _reload(self) -> None:
        session_id = self.state.session_id
        if session_id is None:
            return
        generation = self.state.begin_load()

        def load(backend: Backend) -> Loaded | None:
            if Capability.WORKING_MEMORY not in backend.capabilities():
                return None
            items = backend.list_working_memory(session_id)
            # Formatting is the slow part for a large value: here, not on the UI thread.
            return items, {(item.key, item.version): value_text(item.value) for item in items}

        def loaded(result: Loaded | None) -> None:
            if result is None:
                self._show_unsupported(session_id)
            else:
                self._apply_items(session_id, generation, *result)

        self.call_backend(
            load,
            on_done=loaded,
            on_error=lambda error: self._load_failed(session_id, generation, error),
            action="Working memory",
            group=LOAD_GROUP,
        )

    def _show_unsupported(self, session_id: str) -> None:
        self.state.supported = False
        if session_id == self.state.session_id:
            self._show_message(
                "This backend has no working memory.\n\n"
                f"{self.backend.describe()} speaks plain Memtrace, which stores memories "
                "and sessions but no per-session key → JSON values. Use a memtui store or "
                "`memtui serve` to edit working memory."
            )

    def _load_failed(self, session_id: str, generation: int, error: MemtuiError) -> None:
        if not self.state.is_current(session_id, generation):
            return
        if not self.state.items:
            self._show_message(f"Could not load working memory: {error}")
        self.report_error(error, action="Working memory")

    def _apply_items(
        self,
        session_id: str,
        generation: int,
        items: list[WorkingMemoryItem],
        texts: dict[tuple[str, int], ValueText],
    ) -> None:
        state = self.state
        if not state.is_current(session_id, generation):
            return  # stale: the session changed or a newer load is under way
        state.apply_items(items, texts)
        self.query_one("#wm-switcher", ContentSwitcher).current = "wm-main"
        if state.loaded is not None:
            self._reconcile_loaded()
        if state.loaded is None:
            draft = state.take_draft()
            if draft is not None:
                self._open_draft(draft)
            elif items:
                self._open_item(items[0])
            else:
                self._set_status("No working memory yet: press a to add a key.")
        self._rebuild_table()
        self._refresh_title()

    def _reconcile_loaded(self) -> None:
        key = self.loaded_key
        outcome = self.state.reconcile(self.editor.text)
        if outcome is Reconciled.DELETED:
            self._clear_editor()
            self._set_status(f"{key!r} was deleted elsewhere.")
        elif outcome is Reconciled.RELOAD:
            current = self.state.items[key or ""]
            self._open_item(current, keep_cursor=True)
            self._set_status(f"Reloaded {current.key!r}: v{current.version} was written elsewhere.")

    def _rebuild_table(self) -> None:
        table = self.keys_table
        table.clear()
        dirty_key = self.state.dirty_key(self.editor.text)
        for item in self.state.items.values():
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
        if key is not None and key in self.state.items:
            table.move_cursor(row=table.get_row_index(key), animate=False)

    # --- the editor --------------------------------------------------------------------

    def _clear_editor(self) -> None:
        self.state.clear_loaded()
        editor = self.editor
        editor.load_text("")
        editor.read_only = True
        self._set_status("")
        self._refresh_title()

    def _open_item(self, item: WorkingMemoryItem, *, keep_cursor: bool = False) -> None:
        editor = self.editor
        cursor = editor.cursor_location
        shown = self.state.open(item)
        editor.read_only = shown.large
        editor.load_text(shown.text)
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
            if self.state.first_time_large(item):  # once, in full
                self.notify(why, title="Large value", timeout=8)
        else:
            self._set_status("")
        self._refresh_title()
        self._mark_dirty_row()

    def _open_draft(self, draft: Draft) -> None:
        self._open_item(draft.base)
        self.editor.load_text(draft.text)
        self.state.mark_draft(draft)
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
        if key is None or key not in self.state.items:
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
        item = self.state.items.get(key)
        if item is None:
            return
        if not self.is_dirty:
            self._open_item(item)
            return
        loaded_key = self.loaded_key
        assert loaded_key is not None

        def decided(choice: str | None) -> None:
            if choice == "discard":
                fresh = self.state.items.get(key)
                if fresh is not None:
                    self._open_item(fresh)
                self._rebuild_table()
            elif choice == "save":
                self.action_save(then_open=key)
            else:
                self._move_table_cursor()
                self.editor.focus()

        self.app.push_screen(UnsavedEditsModal(loaded_key, key), decided)

    # --- save and conflicts ------------------------------------------------------------

    def action_save(self, then_open: str | None = None) -> None:
        state = self.state
        refused = state.save_refused()
        if refused is not None:
            severity = "warning" if state.loaded_large is not None else "information"
            self.notify(refused, severity=severity)
            return
        assert state.session_id is not None and state.loaded is not None
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
        self._set_status(f"Saving {state.loaded.key!r}…")
        self._write_value(
            state.session_id, state.loaded.key, value, text, state.loaded.version, then_open
        )

    def _write_value(
        self,
        session_id: str,
        key: str,
        value: Any,
        text: str,
        expected_version: int,
        then_open: str | None,
    ) -> None:
        def failed(error: MemtuiError) -> None:
            if isinstance(error, VersionConflictError):
                self._on_conflict(session_id, key, text, error)
                return
            if session_id == self.state.session_id:
                self._set_status(f"Not saved: {error}. Your edits are still here.", error=True)
            self.report_error(error, action=f"Saving {key!r} failed (your edits are kept)")

        self.call_backend(
            lambda backend: backend.set_working_memory(
                session_id, key, value, expected_version=expected_version
            ),
            on_done=lambda item: self._on_saved(session_id, item, text, then_open),
            on_error=failed,
            action=f"Saving {key!r}",
            group=WRITE_GROUP,
            exclusive=False,
            writes=True,
        )

    def _on_saved(
        self, session_id: str, item: WorkingMemoryItem, text: str, then_open: str | None
    ) -> None:
        state = self.state
        if session_id != state.session_id:
            self.notify(f"Saved {item.key!r} of {session_id} as v{item.version}.")
            return
        state.saved(item, text)
        self._set_status(f"Saved {item.key!r} as v{item.version}.")
        if then_open is not None and then_open in state.items:
            self._open_item(state.items[then_open])
        self._rebuild_table()
        self._refresh_title()

    def _on_conflict(
        self, session_id: str, key: str, text: str, conflict: VersionConflictError
    ) -> None:
        if session_id != self.state.session_id or key != self.loaded_key:
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
                self.state.conflict_kept(current)
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
        expected = expected_after_conflict(current)
        self._set_status(f"Overwriting {key!r} (v{expected}) with your version…")
        self._write_value(session_id, key, value, text, expected, None)

    def _take_theirs(self, key: str, current: WorkingMemoryItem | None) -> None:
        if current is None:
            self.state.removed(key)
            self._clear_editor()
            self._set_status(f"{key!r} was deleted elsewhere; your edits were discarded.")
        else:
            self.state.items[key] = current
            self._open_item(current)
            self._set_status(f"Loaded their v{current.version} of {key!r}.")
        self._rebuild_table()
        self._reload()

    # --- live refresh ------------------------------------------------------------------

    def on_store_changed(self, message: StoreChanged) -> None:
        session_id = self.state.session_id
        if session_id is None or self.state.supported is False:
            return
        if message.full_refresh or any(
            change.session_id == session_id
            and change.kind in (ChangeKind.WORKING_MEMORY_CHANGED, ChangeKind.SESSION_DELETED)
            for change in message.changes
        ):
            self._reload()


def _key_cell(key: str, *, dirty: bool) -> Text:
    """A key in the key list: stored text, so a Text cell (a str cell is markup)."""
    return cell(f"● {key}" if dirty else key)
