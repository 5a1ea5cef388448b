"""Snapshots pane (placeholder; being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from memtui.tui.widgets.pane import SessionPane


class SnapshotsPane(SessionPane):
    HELP = "# Snapshots"

    def __init__(self) -> None:
        super().__init__(id="snapshots")

    def compose(self) -> ComposeResult:
        yield Static("Snapshots")
