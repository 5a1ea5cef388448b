"""A one-line prompt whose value is validated before the dialog closes, used by every
pane."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from memtui.domain.errors import MemtuiError
from memtui.tui.screens.dialog import DialogScreen, button_row
from memtui.tui.stored_text import block, line


class PromptScreen(DialogScreen[Any]):
    """Asks for one value; enter submits, escape cancels (None). `parse` turns the text
    into the result or raises MemtuiError (or ValueError); the message is shown under
    the input and the text stays as typed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt-cancel"),
    ]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        hint: str = "",
        parse: Callable[[str], Any] = str,
        placeholder: str = "",
        submit_label: str = "OK",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.initial = value
        self.hint = hint
        self.parse = parse
        self.placeholder = placeholder
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical():
            # The title may quote stored text (a key, a session id).
            yield Label(line(self.title_text), classes="dialog-title")
            if self.hint:
                yield Static(block(self.hint), classes="dialog-hint")
            yield Input(self.initial, placeholder=self.placeholder, id="prompt-input")
            yield Static("", classes="dialog-error", id="prompt-error", markup=False)
            yield button_row(
                ("prompt-cancel", "Cancel \\[esc]", "default"),
                ("prompt-ok", f"{self.submit_label} \\[enter]", "primary"),
            )

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def _submit(self, text: str) -> None:
        try:
            result = self.parse(text)
        except (MemtuiError, ValueError) as error:
            self.query_one("#prompt-error", Static).update(block(str(error)))
            return
        self.dismiss(result)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit(event.value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "prompt-ok":
            self._submit(self.query_one("#prompt-input", Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
