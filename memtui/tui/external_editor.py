"""Editing a value in the user's $EDITOR: a private temp file, the app suspended while
the editor runs, the text read back and checked as JSON before anything is saved.

The file is created 0600 (mkstemp) in the user's temp dir and removed once its text is
saved or unchanged; when it does not parse, or the save fails, it stays so nothing
typed is lost, and the message names it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["EditResult", "editor_command", "read_edit", "run_editor", "write_temp"]


def editor_command() -> list[str] | None:
    """$VISUAL, else $EDITOR, split like a shell would (`code --wait`); None if unset."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            with contextlib.suppress(ValueError):
                words = shlex.split(value)
                if words:
                    return words
    return None


def write_temp(text: str, *, name_hint: str) -> Path:
    """`text` in a new private (0600) file; the name carries a safe form of the key."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name_hint)[:40] or "value"
    handle, path = tempfile.mkstemp(prefix=f"memtui-{safe}-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    return Path(path)


def run_editor(app: App[Any], command: list[str], path: Path) -> str | None:
    """Run the editor on `path`, the app suspended (terminal handed over) meanwhile.
    Returns an error message, or None when the editor exited normally."""
    from textual.app import SuspendNotSupported

    def run() -> str | None:
        try:
            done = subprocess.run([*command, str(path)], check=False)
        except OSError as error:
            return f"could not start {command[0]!r}: {error.strerror or error}"
        if done.returncode != 0:
            return f"{command[0]} exited with status {done.returncode}"
        return None

    try:
        with app.suspend():
            return run()
    except SuspendNotSupported:  # headless or web: the editor runs without the terminal
        return run()


@dataclass(frozen=True, slots=True)
class EditResult:
    """The edited file: its text, and the value if it parses (else `error`)."""

    text: str
    value: Any = None
    error: str | None = None


def read_edit(path: Path) -> EditResult:
    """The file's text and its JSON value; a parse error names line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return EditResult("", error=f"could not read {path}: {error}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return EditResult(
            text, error=f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        )
    return EditResult(text, value=value)
