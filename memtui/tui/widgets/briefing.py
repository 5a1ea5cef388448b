"""Briefing pane (placeholder; being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from memtui.tui.widgets.pane import SessionPane


class BriefingPane(SessionPane):
    HELP = "# Briefing"

    def __init__(self) -> None:
        super().__init__(id="briefing")

    def compose(self) -> ComposeResult:
        yield Static("Briefing")
