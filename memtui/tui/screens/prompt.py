"""A one-line prompt whose value is validated before the dialog closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from memtui.domain.errors import MemtuiError


class PromptScreen(ModalScreen[Any]):
    """Asks for one value. `parse` turns the text into the result or raises MemtuiError
    (or ValueError); the message is shown under the input and the text stays as typed."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 64; height: auto; border: thick $accent 80%; background: $surface;
        padding: 1 2;
    }
    PromptScreen .title { text-style: bold; margin-bottom: 1; }
    PromptScreen .hint { color: $text-muted; }
    PromptScreen .error { color: $error; height: auto; }
    """

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
    ) -> None:
        super().__init__()
        self.title_text = title
        self.initial = value
        self.hint = hint
        self.parse = parse
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(self.initial, placeholder=self.placeholder, id="prompt-input")
            yield Static(self.hint, classes="hint", markup=False)
            yield Static("", classes="error", id="prompt-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            result = self.parse(event.value)
        except (MemtuiError, ValueError) as error:
            self.query_one("#prompt-error", Static).update(str(error))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
