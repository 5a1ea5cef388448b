"""The working-memory editor: a session's keys beside a JSON editor for the selected value.

Safety rules this pane keeps:
- malformed JSON is never saved and never lost: the message names line and column and
  the editor text stays exactly as typed;
- every save carries the version that was loaded; a conflict shows both versions and the
  user chooses (nothing is overwritten silently);
- unsaved edits are never dropped: switching keys asks, switching sessions keeps them as a
  draft that comes back when the user returns.

The view, loading and the save/conflict flow are in `working_memory_base.py`, the state
in `memtui/tui/state/working_memory.py`; here are the key actions, $EDITOR, the keys
and the palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import Static

from memtui.domain.errors import MemtuiError, VersionConflictError
from memtui.domain.models import Capability, CommitResult, WorkingMemoryItem
from memtui.domain.safe_text import visible_line
from memtui.tui.external_editor import EditResult, editor_command, read_edit, run_editor, write_temp
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.screens.working_memory_dialogs import CommitModal, CommitOptions
from memtui.tui.state.working_memory import describe_commit, describe_json_error, local_time
from memtui.tui.stored_text import block
from memtui.tui.unsupported import refuse_unsupported
from memtui.tui.value_text import ValueText, format_value, value_text
from memtui.tui.widgets.working_memory_base import WRITE_GROUP, JsonEditor, WorkingMemoryBase

if TYPE_CHECKING:
    from memtui.backend import Backend

__all__ = [
    "JsonEditor",
    "WorkingMemoryPane",
    "describe_commit",
    "describe_json_error",
    "format_value",
    "local_time",
]

T = TypeVar("T")

# Actions bound to plain letters: they only make sense (and only fire) while the key
# list, not the JSON editor, has focus.
_LIST_ACTIONS = frozenset(
    {"add_key", "rename_key", "delete_key", "set_importance", "commit", "history"}
)


@dataclass(frozen=True, slots=True)
class _ExternalSaved:
    item: WorkingMemoryItem
    shown: ValueText


@dataclass(frozen=True, slots=True)
class _ExternalUnsaved:
    edit: EditResult  # unchanged (no error) or not JSON (error)


class WorkingMemoryPane(WorkingMemoryBase):
    """Pane 2: edit a session's working memory (key -> JSON value)."""

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
        Binding("ctrl+s", "save", "Save", id="working-memory-save"),
        Binding("a", "add_key", "Add key", id="working-memory-add"),
        Binding("r", "rename_key", "Rename", id="working-memory-rename"),
        Binding("d", "delete_key", "Delete", id="working-memory-delete"),
        Binding("h", "history", "History", id="working-memory-history"),
        Binding("i", "set_importance", "Importance", id="working-memory-importance"),
        Binding("c", "commit", "Commit", id="working-memory-commit"),
        Binding("ctrl+e", "edit_in_editor", "$EDITOR", id="working-memory-external-editor"),
    ]

    # --- $EDITOR ------------------------------------------------------------------------

    def action_edit_in_editor(self) -> None:
        """The whole value in $EDITOR (any size): checked as JSON on return, saved with
        the version it was loaded at (a change elsewhere meanwhile is not overwritten)."""
        if not self._ready(need_key=True):
            return
        state = self.state
        assert state.loaded is not None and state.session_id is not None
        command = editor_command()
        if command is None:
            self.notify(
                "Set $EDITOR (or $VISUAL) to edit values outside memtui, e.g. export EDITOR=nano.",
                severity="warning",
                timeout=8,
            )
            return
        item = state.loaded
        session_id = state.session_id
        # Unsaved edits of a small value go along; a large value starts from the store.
        text = self.editor.text if state.loaded_large is None and self.is_dirty else None
        self._set_status(f"Opening {item.key!r} in {command[0]}…")

        def prepare(_: Backend) -> tuple[Path, str] | str:
            original = text if text is not None else format_value(item.value)
            try:
                return write_temp(original, name_hint=item.key), original
            except OSError as error:
                return f"Could not write a temp file: {error}"

        def prepared(result: tuple[Path, str] | str) -> None:
            if isinstance(result, str):
                self._set_status(result, error=True)
            else:
                self._external_run(session_id, item, *result, command)

        self.call_backend(
            prepare,
            on_done=prepared,
            action=f"Opening {item.key!r}",
            group="working-memory-external",
            exclusive=False,
        )

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

        def check_and_save(backend: Backend) -> _ExternalSaved | _ExternalUnsaved:
            edit = read_edit(path)
            if edit.error is not None or edit.text == original:
                return _ExternalUnsaved(edit)
            saved = backend.set_working_memory(
                session_id, item.key, edit.value, expected_version=item.version
            )
            path.unlink(missing_ok=True)
            return _ExternalSaved(saved, value_text(saved.value))

        def done(result: _ExternalSaved | _ExternalUnsaved) -> None:
            if isinstance(result, _ExternalSaved):
                self._external_saved(session_id, result.item, result.shown, command[0])
            elif result.edit.error is None:
                path.unlink(missing_ok=True)
                self._set_status(f"No changes to {item.key!r}.")
            else:
                self._external_invalid(session_id, item, path, original, command, result.edit)

        def failed(error: MemtuiError) -> None:
            if isinstance(error, VersionConflictError):
                now = f"now v{error.current.version}" if error.current else "now deleted"
                reason = f"{item.key!r} changed elsewhere since v{item.version} ({now})"
                self._external_failed(item.key, path, reason)
                self._reload()
            else:
                self._external_failed(item.key, path, str(error))

        self.call_backend(
            check_and_save,
            on_done=done,
            on_error=failed,
            action=f"Saving {item.key!r}",
            group="working-memory-external",
            exclusive=False,
            writes=True,
        )

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
        state = self.state
        if session_id != state.session_id:
            self.notify(f"Saved {item.key!r} of {session_id} as v{item.version}.")
            return
        state.items[item.key] = item
        state.texts[(item.key, item.version)] = shown
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
        reason = self.state.not_ready(need_key=need_key)
        if reason is not None:
            self.notify(reason, severity="warning")
        return reason is None

    def _write(
        self,
        work: Callable[[Backend], T],
        on_done: Callable[[T], object],
        *,
        key: str,
        verb: str,
        action: str,
    ) -> None:
        """A write of a key's metadata: a version conflict reloads the list and says so."""

        def failed(error: MemtuiError) -> None:
            if isinstance(error, VersionConflictError):
                self._write_conflicted(key, verb, error)
            else:
                self.report_error(error, action=action)

        self.call_backend(
            work,
            on_done=on_done,
            on_error=failed,
            action=action,
            group=WRITE_GROUP,
            exclusive=False,
            writes=True,
        )

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
            if key in self.state.items:
                self.notify(f"{key!r} already exists.", severity="warning")
                self._request_open(key)
                return
            session_id = self.state.session_id
            assert session_id is not None
            self.call_backend(
                lambda backend: backend.set_working_memory(session_id, key, {}, expected_version=0),
                on_done=lambda item: self._on_added(session_id, item),
                on_error=lambda error: self.report_error(error, action=f"Adding {key!r}"),
                action=f"Adding {key!r}",
                group=WRITE_GROUP,
                exclusive=False,
                writes=True,
            )

        self.app.push_screen(
            PromptScreen(
                "Add a working-memory key",
                placeholder="e.g. current_plan",
                hint="Its value starts as {} and opens in the editor.",
                submit_label="Add",
            ),
            chosen,
        )

    def _on_added(self, session_id: str, item: WorkingMemoryItem) -> None:
        if session_id != self.state.session_id:
            return
        self.state.updated(item, sort=True)
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
        old = self.state.loaded
        assert old is not None
        # The input shows the key with its control characters visible (raw, they would
        # reach the terminal); submitted unchanged, that still means "the same key".
        shown_key = visible_line(old.key)

        def chosen(new_key: str | None) -> None:
            if new_key is None:
                return
            new_key = new_key.strip()
            if not new_key or new_key in (old.key, shown_key.strip()):
                return
            session_id = self.state.session_id
            assert session_id is not None
            self._write(
                lambda backend: backend.rename_working_memory(
                    session_id, old.key, new_key, expected_version=old.version
                ),
                lambda item: self._on_renamed(session_id, old.key, item),
                key=old.key,
                verb="renamed",
                action=f"Renaming {old.key!r}",
            )

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

    def _on_renamed(self, session_id: str, old_key: str, item: WorkingMemoryItem) -> None:
        if session_id != self.state.session_id:
            return
        self.state.renamed(old_key, item)
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
        item = self.state.loaded
        assert item is not None
        warning = " Your unsaved edits will be lost." if self.is_dirty else ""

        def confirmed(yes: bool | None) -> None:
            session_id = self.state.session_id
            if not yes or session_id is None:
                return
            self._write(
                lambda backend: backend.delete_working_memory(
                    session_id, item.key, expected_version=item.version
                ),
                lambda _: self._on_deleted(session_id, item.key),
                key=item.key,
                verb="deleted",
                action=f"Deleting {item.key!r}",
            )

        self.app.push_screen(
            ConfirmScreen(
                "Delete working-memory key",
                f"Delete {item.key!r} (v{item.version}) from {self.state.session_id}?{warning}",
            ),
            confirmed,
        )

    def _on_deleted(self, session_id: str, key: str) -> None:
        if session_id != self.state.session_id:
            return
        self.services.record_delete("working_memory", [key], session_id)
        if self.state.removed(key):
            self._clear_editor()
            if self.state.items:
                self._open_item(next(iter(self.state.items.values())))
        self._set_status(f"Deleted {key!r}.")
        self._rebuild_table()

    def action_history(self) -> None:
        """The history of the key being shown (h)."""
        session_id = self.state.session_id
        if not self._ready(need_key=True) or session_id is None:
            return
        item = self.state.loaded
        assert item is not None
        from memtui.domain.history import HistoryTarget

        self.services.show_history(HistoryTarget.key(session_id, item.key))

    def action_set_importance(self) -> None:
        if not self._ready(need_key=True) or refuse_unsupported(
            self, Capability.WORKING_MEMORY_IMPORTANCE
        ):
            return
        item = self.state.loaded
        assert item is not None

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
            session_id = self.state.session_id
            if importance is None or session_id is None:
                return
            self._write(
                # The stored value, not the editor's: unsaved edits stay unsaved.
                lambda backend: backend.set_working_memory(
                    session_id,
                    item.key,
                    item.value,
                    importance=importance,
                    expected_version=item.version,
                ),
                lambda updated: self._on_importance_set(session_id, updated),
                key=item.key,
                verb="given a new importance",
                action="Setting importance",
            )

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

    def _on_importance_set(self, session_id: str, item: WorkingMemoryItem) -> None:
        if session_id != self.state.session_id:
            return
        self.state.updated(item)
        self._set_status(f"Importance of {item.key!r} is now {item.importance:.2f}.")
        self._rebuild_table()
        self._refresh_title()

    def action_commit(self) -> None:
        if not self._ready():
            return
        session_id = self.state.session_id
        assert session_id is not None

        def chosen(options: CommitOptions | None) -> None:
            if options is not None:
                self._commit(session_id, options)

        self.app.push_screen(CommitModal(session_id), chosen)

    def _commit(self, session_id: str, options: CommitOptions) -> None:
        def commit(backend: Backend) -> CommitResult | None:
            if Capability.COMMIT not in backend.capabilities():
                return None
            return backend.commit_working_memory(
                session_id, min_importance=options.min_importance, deduplicate=options.deduplicate
            )

        def committed(result: CommitResult | None) -> None:
            if result is None:
                self.notify(
                    "This backend cannot commit working memory to long-term memory.",
                    severity="warning",
                )
            else:
                self._on_committed(session_id, result, options)

        self.call_backend(
            commit,
            on_done=committed,
            on_error=lambda error: self.report_error(error, action="Commit"),
            action="Commit",
            group=WRITE_GROUP,
            exclusive=False,
            writes=True,
        )

    def _on_committed(self, session_id: str, result: CommitResult, options: CommitOptions) -> None:
        summary = describe_commit(result, options.min_importance)
        if self.is_dirty:
            summary += f" · unsaved edits to {self.loaded_key!r} were not included"
        if session_id == self.state.session_id:
            self.query_one("#wm-commit-result", Static).update(block(summary))
        self.notify(summary, title="Commit to long-term memory", timeout=10)

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
