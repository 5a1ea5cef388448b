"""A one-line progress bar on stderr, shown only when stderr is a terminal (a pipe or a
log file gets nothing), redrawn at most five times a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24
REDRAW_SECONDS = 0.2


class Progress:
    def __init__(self, command: str, stream: TextIO) -> None:
        self.command = command
        self.stream = stream
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._drawn_at = 0.0
        self._started = 0.0

    @classmethod
    def on_stderr(cls, command: str) -> Progress | None:
        try:
            terminal = sys.stderr.isatty()
        except (AttributeError, ValueError):
            terminal = False
        return cls(command, sys.stderr) if terminal else None

    def start(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self.done += count
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = round(share * BAR_WIDTH)
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            count = f"{self.done:,} / {self.total:,} {self.label} {share:4.0%}"
            return f"memtui {self.command}: {bar} {count}  {elapsed:.0f}s"
        return f"memtui {self.command}: {self.done:,} {self.label}  {elapsed:.0f}s"

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()
