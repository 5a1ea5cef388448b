"""Context preview pane (placeholder; being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from memtui.tui.widgets.pane import SessionPane


class ContextPreviewPane(SessionPane):
    HELP = "# Context preview"

    def __init__(self) -> None:
        super().__init__(id="context-preview")

    def compose(self) -> ComposeResult:
        yield Static("Context preview")
