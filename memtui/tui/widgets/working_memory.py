"""Working memory pane (placeholder; being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from memtui.tui.widgets.pane import SessionPane


class WorkingMemoryPane(SessionPane):
    HELP = "# Working memory"

    def __init__(self) -> None:
        super().__init__(id="working-memory")

    def compose(self) -> ComposeResult:
        yield Static("Working memory")
