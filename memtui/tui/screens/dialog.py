"""The base of every memtui dialog: a centred box over the dimmed app."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.widgets.button import ButtonVariant

ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    """A centred dialog: compose one `Vertical` holding a `.dialog-title` label, the
    body, an optional `.dialog-error` line and a `.dialog-buttons` row."""

    DEFAULT_CSS = """
    DialogScreen {
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
        & .dialog-hint {
            color: $text-muted;
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


def button_row(*buttons: tuple[str, str, ButtonVariant]) -> Horizontal:
    """The dialog's buttons, right-aligned: (id, label, variant) each, in order."""
    return Horizontal(
        *(Button(label, id=button_id, variant=variant) for button_id, label, variant in buttons),
        classes="dialog-buttons",
    )


class ChoiceDialog(DialogScreen[str]):
    """Dismisses with the id of the button pressed (or of the key's `choose` action).
    The button whose id is CANCEL_CHOICE has the focus, so enter never destroys."""

    CANCEL_CHOICE: ClassVar[str] = "keep"

    def on_mount(self) -> None:
        self.query_one(f"#{self.CANCEL_CHOICE}", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or self.CANCEL_CHOICE)
