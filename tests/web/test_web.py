"""`memtui web` (issue 15 §4): the same TUI served to a real headless Chromium by
textual-serve, read back from xterm.js's own buffer (tests/helpers/browser.py)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from memtui.commands import web
from memtui.store import SqlStore
from tests.helpers.browser import Chromium
from tests.helpers.live_server import free_port

SESSION_ID = "sess_seen_in_the_browser"


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"memtui web exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with SqlStore(url) as store:
        store.create_session("browser-agent", session_id=SESSION_ID)
        store.set_working_memory(SESSION_ID, "plan", {"step": 1})
    port = free_port()
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "memtui", "web", "--db", url, "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the app processes of each tab are its children
        env=dict(os.environ),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()


def test_the_session_list_shows_in_a_real_browser(web_server: str, tmp_path: Path) -> None:
    with Chromium.launch(tmp_path / "chromium") as browser:
        page = browser.open(web_server)
        expected = (SESSION_ID, "browser-agent", "Timeline", "Working memory")

        def all_shown() -> bool:
            text = page.terminal_text() or ""
            return all(part in text for part in expected)

        page.wait_for(all_shown, timeout=90, what=f"{expected} in the terminal")
        assert page.evaluate("document.querySelectorAll('.textual-terminal canvas').length") >= 1
        png = page.screenshot(tmp_path / "web.png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "memtui", "web", "--db", f"sqlite:///{tmp_path / 's.db'}"]
            + ["--port", str(port)],
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    stderr = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, stderr, result.stdout)
    assert f"memtui web: cannot listen on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


def _args(**values: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 8566,
        "db": None,
        "server": None,
        "api_key": None,
    }
    return argparse.Namespace(**{**defaults, **values})


class _NotServed:
    """Stands in for textual-serve's Server where a test may not bind: listening beyond
    loopback is not allowed on these machines."""

    made: list[_NotServed] = []

    def __init__(self, command: str, host: str, port: int, title: str) -> None:
        self.command, self.host, self.port, self.title = command, host, port, title
        _NotServed.made.append(self)

    def serve(self) -> None:
        return None


def test_binding_beyond_loopback_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", _NotServed)
    assert web.run_web_command(_args(host="0.0.0.0")) == 0
    warning = capsys.readouterr().err
    assert "memtui web: warning: listening on 0.0.0.0" in warning
    assert "anyone who can reach the port" in warning
    assert _NotServed.made[-1].host == "0.0.0.0"

    assert web.run_web_command(_args(host="127.0.0.1")) == 0
    assert web.run_web_command(_args(host="localhost")) == 0
    assert web.run_web_command(_args(host="::1")) == 0
    assert capsys.readouterr().err == ""


def test_the_api_key_reaches_the_tabs_by_environment_not_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", _NotServed)
    monkeypatch.delenv("MEMTUI_API_KEY", raising=False)
    monkeypatch.delenv("MEMTUI_SERVER", raising=False)
    args = _args(server="http://127.0.0.1:9100", api_key="mtk_secret_value")
    assert web.run_web_command(args) == 0
    assert "mtk_secret_value" not in _NotServed.made[-1].command
    assert os.environ["MEMTUI_API_KEY"] == "mtk_secret_value"
    assert os.environ["MEMTUI_SERVER"] == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"port": 0}, "--port must be from 1 to 65535, got 0"),
        ({"db": "sqlite:///x.db", "server": "http://x"}, "give --db or --server, not both"),
    ],
)
def test_bad_options_are_one_line(
    values: dict[str, object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert web.run_web_command(_args(**values)) == 2
    assert capsys.readouterr().err.strip() == f"memtui web: {message}"
