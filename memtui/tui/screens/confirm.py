"""A yes/no confirmation for destructive actions, used by every pane."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Label, Static

from memtui.tui.screens.dialog import DialogScreen, button_row
from memtui.tui.stored_text import block, line


class ConfirmScreen(DialogScreen[bool]):
    """Dismisses with True only when the user confirms. Escape or `n` cancels; the
    cancel button has the focus."""

    DEFAULT_CSS = """
    ConfirmScreen > Vertical { border: thick $error; }
    ConfirmScreen .dialog-title { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "Cancel", id="confirm-cancel"),
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
    ]

    def __init__(self, title: str, body: str, *, confirm_label: str = "Delete") -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            # Both quote stored text (a session id, a key, a memory's content).
            yield Label(line(self.title_text), classes="dialog-title")
            yield Static(block(self.body_text))
            yield button_row(
                ("confirm-cancel", "Cancel \\[n]", "default"),
                ("confirm-yes", f"{self.confirm_label} \\[y]", "error"),
            )

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")
