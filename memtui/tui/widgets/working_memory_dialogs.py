"""Modal dialogs of the working-memory editor (also reused by the context preview)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

ResultT = TypeVar("ResultT")


class MemtuiDialog(ModalScreen[ResultT]):
    """A centred dialog box over the dimmed app."""

    DEFAULT_CSS = """
    MemtuiDialog {
        align: center middle;
        background: $background 60%;
        & > Vertical {
            width: 72;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
        & .dialog-title {
            text-style: bold;
            width: 100%;
            margin-bottom: 1;
        }
        & .dialog-error {
            color: $error;
            height: auto;
        }
        & .dialog-buttons {
            height: auto;
            margin-top: 1;
            align-horizontal: right;
        }
        & .dialog-buttons Button {
            margin-left: 1;
            min-width: 12;
        }
    }
    """


class ConfirmModal(MemtuiDialog[bool]):
    """Yes/no for destructive actions; `y` confirms, `n`/escape cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, message: str, *, confirm_label: str = "Delete") -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title")
            yield Static(self._message)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel \\[n]", id="confirm-no")
                yield Button(f"{self._confirm_label} \\[y]", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class TextPromptModal(MemtuiDialog[str | None]):
    """Asks for one line of text. Enter submits, escape cancels (returns None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        submit_label: str = "OK",
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder
        self._hint = hint
        self._submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title")
            if self._hint:
                yield Static(self._hint)
            yield Input(value=self._value, placeholder=self._placeholder, id="prompt-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel \\[esc]", id="prompt-cancel")
                yield Button(f"{self._submit_label} \\[enter]", id="prompt-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "prompt-ok":
            self.dismiss(self.query_one("#prompt-input", Input).value)
        else:
            self.dismiss(None)


class UnsavedEditsModal(MemtuiDialog[str]):
    """Switching away from a key with unsaved edits: save, discard or keep editing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save", id="unsaved.save"),
        Binding("d", "choose('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,k", "choose('keep')", "Keep editing", id="unsaved.keep"),
    ]

    def __init__(self, key: str, target: str) -> None:
        super().__init__()
        self._key = key
        self._target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Unsaved edits", classes="dialog-title")
            yield Static(
                f"The value of [b]{_escape(self._key)}[/b] has unsaved edits. "
                f"Save them before opening [b]{_escape(self._target)}[/b]?"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep editing \\[esc]", id="keep")
                yield Button("Discard \\[d]", id="discard", variant="error")
                yield Button("Save \\[s]", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "keep")


@dataclass(frozen=True, slots=True)
class ConflictSide:
    """One version shown in the conflict dialog."""

    label: str
    text: str


class ConflictModal(MemtuiDialog[str]):
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
        Binding("m", "choose('mine')", "Keep mine", id="conflict.mine"),
        Binding("t", "choose('theirs')", "Take theirs", id="conflict.theirs"),
        Binding("escape,k", "choose('keep')", "Keep editing", id="conflict.keep"),
    ]

    def __init__(self, key: str, message: str, mine: ConflictSide, theirs: ConflictSide) -> None:
        super().__init__()
        self._key = key
        self._message = message
        self._mine = mine
        self._theirs = theirs

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Version conflict on {self._key!r}", classes="dialog-title", id="conflict-title"
            )
            yield Static(self._message, id="conflict-message")
            with Horizontal(id="conflict-sides"):
                for side_id, side in (("mine", self._mine), ("theirs", self._theirs)):
                    with Vertical(classes="conflict-side"):
                        yield Label(side.label, id=f"conflict-{side_id}-label")
                        yield TextArea(
                            side.text,
                            read_only=True,
                            show_line_numbers=True,
                            id=f"conflict-{side_id}",
                        )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep editing \\[k]", id="keep")
                yield Button("Take theirs \\[t]", id="theirs", variant="warning")
                yield Button("Keep mine \\[m]", id="mine", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "keep")


@dataclass(frozen=True, slots=True)
class CommitOptions:
    min_importance: float
    deduplicate: bool


class CommitModal(MemtuiDialog[CommitOptions | None]):
    """Asks for commit options; refuses a min_importance outside 0..1 in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="commit.cancel"),
    ]

    def __init__(self, session_id: str, *, min_importance: float = 0.5) -> None:
        super().__init__()
        self._session_id = session_id
        self._min_importance = min_importance

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Commit working memory to long-term memory", classes="dialog-title")
            yield Static(
                f"Items of {self._session_id} with importance ≥ min_importance become "
                "long-term memories (type session, event commit)."
            )
            yield Label("min_importance (0 to 1)")
            yield Input(str(self._min_importance), id="commit-min-importance")
            yield Checkbox("deduplicate (skip values already stored)", True, id="commit-dedup")
            yield Static("", classes="dialog-error", id="commit-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel \\[esc]", id="commit-cancel")
                yield Button("Commit \\[enter]", id="commit-ok", variant="primary")

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
                f"min_importance must be a number from 0 to 1, not {text!r}"
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


def _escape(text: str) -> str:
    from textual.markup import escape

    return escape(text)
