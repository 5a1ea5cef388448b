"""Run the real `memtui` TUI in a pseudo-terminal, as a user's shell would.

    with PtyApp(["--db", url]) as app:
        app.wait_for("Cannot open the store")
        app.send("q")
        assert app.wait() == 2

Textual draws to the terminal, so everything it prints (and the CLI's last stderr line)
is read back from the pty's master side; `screen_text()` is that output with the escape
sequences stripped, good enough to look for a message.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from types import TracebackType

_ESCAPES = re.compile(
    rb"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]"
)


class PtyApp:
    def __init__(
        self,
        argv: list[str],
        *,
        columns: int = 120,
        rows: int = 30,
        env: dict[str, str] | None = None,
    ) -> None:
        self._master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environment = dict(env if env is not None else os.environ)
        environment.update({"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "memtui", *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self._output = bytearray()

    def _read(self, timeout: float) -> bool:
        """Reads what is there (waiting up to `timeout`); False once nothing more came."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # the child closed the terminal: everything has been read
            time.sleep(0.05)
            return False
        self._output += chunk
        return bool(chunk)

    def screen_text(self) -> str:
        return _ESCAPES.sub(b"", bytes(self._output)).decode("utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in re.sub(r"\s+", " ", self.screen_text()):
                return
            if self.process.poll() is not None:
                self._read(0.1)
                break
            self._read(0.1)
        if text not in re.sub(r"\s+", " ", self.screen_text()):
            raise AssertionError(f"{text!r} never appeared; output:\n{self.screen_text()[-3000:]}")

    def send(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        code = self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        while self._read(0.2):  # drain what it wrote last (the CLI's stderr line)
            pass
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._master)

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
