"""A real headless Chromium (Debian's `chromium`), driven over the DevTools protocol.

    with Chromium.launch(tmp_path) as browser:
        page = browser.open("http://127.0.0.1:8566/")
        page.wait_for(lambda: "sess_" in (page.terminal_text() or ""), timeout=30)
        page.screenshot(tmp_path / "web.png")

textual-serve draws the terminal with xterm.js on a canvas, so the text is not in the
DOM. `TERMINAL_HOOK` runs before the page's own scripts and keeps a reference to each
xterm.js `Terminal` as it is built (the constructor assigns `this._core`; a setter on
Object.prototype sees that), so `terminal_text()` reads the rows xterm.js shows, from its
own buffer. Without chromium the tests skip, unless MEMTUI_REQUIRE_CHROMIUM=1 (.ci/run
installs chromium and sets it).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

REQUIRE_ENV = "MEMTUI_REQUIRE_CHROMIUM"
STARTUP_TIMEOUT_SECONDS = 30.0
COMMAND_TIMEOUT_SECONDS = 30.0

TERMINAL_HOOK = r"""
(() => {
  const found = [];
  Object.defineProperty(Object.prototype, "_core", {
    configurable: true,
    get() { return undefined; },
    set(value) {
      Object.defineProperty(this, "_core", {
        value, writable: true, configurable: true, enumerable: false,
      });
      found.push(this);
    },
  });
  window.__memtuiTerminalText = () => {
    const term = found.find((t) => t && t.buffer && t.buffer.active && t.rows);
    if (!term) return null;
    const buffer = term.buffer.active;
    const rows = [];
    for (let i = 0; i < term.rows; i++) {
      const line = buffer.getLine(buffer.viewportY + i);
      rows.push(line ? line.translateToString(true) : "");
    }
    return rows.join("\n");
  };
})();
"""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    return path


class Page:
    """One tab, over its DevTools websocket (synchronous, one command at a time)."""

    def __init__(self, websocket_url: str) -> None:
        from contextlib import ExitStack

        from websockets.sync.client import connect

        self._stack = ExitStack()
        self._socket = self._stack.enter_context(
            connect(websocket_url, max_size=64 * 1024 * 1024, open_timeout=10)
        )
        self._next_id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + COMMAND_TIMEOUT_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{method}: no answer in {COMMAND_TIMEOUT_SECONDS:.0f} s")
            reply = json.loads(self._socket.recv(timeout=remaining))
            if reply.get("id") != message_id:
                continue  # an event
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def navigate(self, url: str) -> None:
        self.send("Page.enable")
        self.send("Page.addScriptToEvaluateOnNewDocument", source=TERMINAL_HOOK)
        self.send("Page.navigate", url=url)

    def terminal_text(self) -> str | None:
        return self.evaluate("window.__memtuiTerminalText ? window.__memtuiTerminalText() : null")

    def wait_for(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen within {timeout:.0f} s")
            time.sleep(0.25)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data

    def close(self) -> None:
        self._stack.close()


class Chromium:
    """A headless Chromium with its own profile directory, stopped by PID."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self._pages: list[Page] = []

    @classmethod
    def launch(cls, profile: Path, *, width: int = 1280, height: int = 800) -> Chromium:
        executable = require_chromium()
        profile.mkdir(parents=True, exist_ok=True)
        stderr_path = profile / "chromium.stderr"
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                [
                    executable,
                    "--headless=new",
                    "--no-sandbox",  # CI runs as root
                    "--disable-gpu",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    f"--user-data-dir={profile}",
                    f"--window-size={width},{height}",
                    "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0",
                    "about:blank",
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        port_file = profile / "DevToolsActivePort"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"chromium exited with {process.returncode}: "
                    f"{stderr_path.read_text(errors='replace')[-2000:]}"
                )
            if port_file.exists():
                first = port_file.read_text().split("\n", 1)[0].strip()
                if first.isdigit():
                    return cls(process, int(first))
            time.sleep(0.1)
        cls._kill(process)
        raise RuntimeError(f"chromium did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s")

    def open(self, url: str) -> Page:
        import httpx

        targets = httpx.get(f"http://127.0.0.1:{self.port}/json/list", timeout=10).json()
        page_target = next(t for t in targets if t.get("type") == "page")
        page = Page(page_target["webSocketDebuggerUrl"])
        self._pages.append(page)
        page.navigate(url)
        return page

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def close(self) -> None:
        for page in self._pages:
            page.close()
        self._kill(self.process)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


SESSION_ID = re.compile(r"sess_[0-9a-f]{6,}")
