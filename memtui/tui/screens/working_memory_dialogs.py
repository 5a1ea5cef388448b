"""Dialogs of the working-memory editor: unsaved edits, a version conflict, commit.
(Its confirmations and prompts are the shared ConfirmScreen and PromptScreen.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from memtui.tui.screens.dialog import ChoiceDialog, DialogScreen, button_row
from memtui.tui.stored_text import block, join, line


class UnsavedEditsModal(ChoiceDialog):
    """Switching away from a key with unsaved edits: save, discard or keep editing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save", id="unsaved-save"),
        Binding("d", "choose('discard')", "Discard", id="unsaved-discard"),
        Binding("escape,k", "choose('keep')", "Keep editing", id="unsaved-keep"),
    ]

    def __init__(self, key: str, target: str) -> None:
        super().__init__()
        self._key = key
        self._target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Unsaved edits", classes="dialog-title")
            # Keys are stored text: Content parts, never markup.
            yield Static(
                join(
                    "The value of ",
                    line(self._key, "b"),
                    " has unsaved edits. Save them before opening ",
                    line(self._target, "b"),
                    "?",
                )
            )
            yield button_row(
                ("keep", "Keep editing \\[esc]", "default"),
                ("discard", "Discard \\[d]", "error"),
                ("save", "Save \\[s]", "primary"),
            )


@dataclass(frozen=True, slots=True)
class ConflictSide:
    """One version shown in the conflict dialog."""

    label: str
    text: str


class ConflictModal(ChoiceDialog):
    """Shows the user's edit and the store's version side by side.

    Returns "mine" (overwrite), "theirs" (reload) or "keep" (keep editing)."""

    DEFAULT_CSS = """
    ConflictModal > Vertical {
        width: 110;
        max-width: 98%;
    }
    ConflictModal #conflict-sides {
        height: 18;
    }
    ConflictModal .conflict-side {
        width: 1fr;
        height: 100%;
        margin: 0 1 0 0;
    }
    ConflictModal .conflict-side TextArea {
        height: 1fr;
    }
    ConflictModal .conflict-side Label {
        text-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "choose('mine')", "Keep mine", id="conflict-mine"),
        Binding("t", "choose('theirs')", "Take theirs", id="conflict-theirs"),
        Binding("escape,k", "choose('keep')", "Keep editing", id="conflict-keep"),
    ]

    def __init__(self, key: str, message: str, mine: ConflictSide, theirs: ConflictSide) -> None:
        super().__init__()
        self._key = key
        self._message = message
        self._mine = mine
        self._theirs = theirs

    def compose(self) -> ComposeResult:
        with Vertical():
            # Keys are stored text: `[` is not markup and control characters show.
            yield Label(
                line(f"Version conflict on {self._key!r}"),
                classes="dialog-title",
                id="conflict-title",
            )
            yield Static(block(self._message), id="conflict-message")
            with Horizontal(id="conflict-sides"):
                for side_id, side in (("mine", self._mine), ("theirs", self._theirs)):
                    with Vertical(classes="conflict-side"):
                        yield Label(line(side.label), id=f"conflict-{side_id}-label")
                        yield TextArea(
                            side.text,
                            read_only=True,
                            show_line_numbers=True,
                            id=f"conflict-{side_id}",
                        )
            yield button_row(
                ("keep", "Keep editing \\[k]", "default"),
                ("theirs", "Take theirs \\[t]", "warning"),
                ("mine", "Keep mine \\[m]", "primary"),
            )


@dataclass(frozen=True, slots=True)
class CommitOptions:
    min_importance: float
    deduplicate: bool


class CommitModal(DialogScreen[CommitOptions | None]):
    """Asks for commit options; refuses a min_importance outside 0..1 in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="commit-cancel"),
    ]

    def __init__(self, session_id: str, *, min_importance: float = 0.5) -> None:
        super().__init__()
        self._session_id = session_id
        self._min_importance = min_importance

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Commit working memory to long-term memory", classes="dialog-title")
            yield Static(
                join(
                    "Items of ",
                    line(self._session_id),
                    " with importance ≥ min_importance become "
                    "long-term memories (type session, event commit).",
                )
            )
            yield Label("min_importance (0 to 1)")
            yield Input(str(self._min_importance), id="commit-min-importance")
            yield Checkbox("deduplicate (skip values already stored)", True, id="commit-dedup")
            yield Static("", classes="dialog-error", id="commit-error")
            yield button_row(
                ("commit-cancel", "Cancel \\[esc]", "default"),
                ("commit-ok", "Commit \\[enter]", "primary"),
            )

    def on_mount(self) -> None:
        self.query_one("#commit-min-importance", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#commit-min-importance", Input).value.strip()
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            self.query_one("#commit-error", Static).update(
                line(f"min_importance must be a number from 0 to 1, not {text!r}")
            )
            self.query_one("#commit-min-importance", Input).add_class("-invalid")
            return
        deduplicate = self.query_one("#commit-dedup", Checkbox).value
        self.dismiss(CommitOptions(min_importance=value, deduplicate=deduplicate))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "commit-ok":
            self._submit()
        else:
            self.dismiss(None)
