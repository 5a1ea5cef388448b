"""How the pane commands print: stored text shown safely on a terminal and exactly in a
pipe, JSON for scripts, and errors as one line on stderr.

- Stored text (content, keys, names, tags) goes through `memtui.domain.safe_text` when
  stdout is a terminal, so an escape sequence in a memory shows as `␛]52;…` instead of
  acting; in a pipe or a file it is written byte for byte (UTF-8).
- `--json` output is `json.dumps` with non-ASCII text kept, except that the characters a
  terminal acts on even inside a JSON string (DEL, C1 controls, bidi overrides, line
  separators, lone surrogates) are written as `\\uXXXX` escapes: the same JSON value,
  safe on any screen.
- Times are shown in local time; JSON keeps the UTC wire form.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from memtui.domain.safe_text import visible_line, visible_text

if TYPE_CHECKING:
    import argparse

    from memtui.backend import Backend

EXIT_ERROR = 2
T = TypeVar("T")

# What json.dumps(ensure_ascii=False) leaves raw but a terminal acts on; C0 controls
# are already escaped by json.dumps itself.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class CommandError(Exception):
    """A user-facing failure of a command: printed as one line, exit code 2."""


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


class Printer:
    """Writes one command's output. `terminal` decides whether stored text is made
    visible (a terminal) or written exactly (a pipe)."""

    def __init__(self, *, terminal: bool | None = None) -> None:
        self.terminal = stdout_is_terminal() if terminal is None else terminal

    def line(self, text: str) -> str:
        """Stored text for a one-line cell (newlines too become visible on a terminal)."""
        return visible_line(text) if self.terminal else text

    def body(self, text: str) -> str:
        """Stored text for a multi-line body (newlines and tabs kept)."""
        return visible_text(text) if self.terminal else text

    def write(self, text: str = "") -> None:
        """`text` and a newline on stdout, as UTF-8 whatever the locale."""
        out = sys.stdout
        out.flush()
        out.buffer.write((text + "\n").encode("utf-8", "backslashreplace"))
        out.buffer.flush()

    def json(self, value: Any) -> None:
        self.write(dumps_json(value))


def dumps_json(value: Any, *, indent: int | None = 2, compact: bool = False) -> str:
    """`compact`: one line without spaces (memtui export's records)."""
    separators = (",", ":") if compact else None
    text = json.dumps(
        value, ensure_ascii=False, indent=indent, separators=separators, allow_nan=not compact
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def note(command: str, message: str) -> None:
    """A human remark on stderr (never part of what a pipe reads)."""
    print(f"memtui {command}: {visible_line(message)}", file=sys.stderr, flush=True)


def fail(command: str, message: str) -> int:
    print(f"memtui {command}: {visible_line(message)}", file=sys.stderr, flush=True)
    return EXIT_ERROR


def local_time(value: datetime | None) -> str:
    return "never" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, the last one not padded (it may hold long text)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def render(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([render(headers), *(render(r) for r in rows)])


def run_command(
    command: str, args: argparse.Namespace, work: Callable[[Backend, Printer], int | None]
) -> int:
    """Open the backend `--db`/`--server` point at, run `work`, close it. Any failure is
    one line on stderr and exit code 2 (130 on Ctrl-C); nothing half-printed on stdout
    matters, since errors come before output."""
    from memtui.domain.errors import MemtuiError

    printer = Printer()
    try:
        from memtui.commands.sessions import open_backend_from_args

        backend = open_backend_from_args(args)
        try:
            return work(backend, printer) or 0
        finally:
            backend.close()
    except (MemtuiError, CommandError) as exc:
        return fail(command, str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # `memtui memories … | head`: the entry point ends quietly
    except RecursionError:
        return fail(command, "the data is nested too deeply to handle")
    except Exception as exc:  # never a traceback for the user; say what broke
        return fail(command, f"unexpected error ({type(exc).__name__}: {exc})")
