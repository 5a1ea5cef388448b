"""Secrets in a real `memtui serve`'s output (issue 8 item 10): the first start's admin key
is shown once on the terminal and never on stdout (the access log's stream) or in a log,
and every form of a key a request can carry is masked in the log."""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.helpers.live_server import free_port

KEY_PATTERN = re.compile(r"mtk_[A-Za-z0-9_\-]{43}=")
STARTUP_SECONDS = 30.0


def _serve_command(db: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "memtui",
        "serve",
        "--db",
        f"sqlite:///{db}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _wait_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "memtui serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("memtui serve did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _with_controlling_terminal(slave: int) -> Any:
    def setup() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    return setup


def _read_terminal(master: int, until: re.Pattern[str], timeout: float = 10.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until.search(seen.decode("utf-8", "replace")):
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen.decode("utf-8", "replace")


def test_first_start_shows_the_admin_key_on_the_terminal_only(tmp_path: Path) -> None:
    port = free_port()
    stdout_path, stderr_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    master, slave = os.openpty()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            _serve_command(tmp_path / "fresh.db", port),
            stdin=slave,
            stdout=out,
            stderr=err,
            preexec_fn=_with_controlling_terminal(slave),  # noqa: PLW1509 - a test's child
        )
    os.close(slave)
    try:
        _wait_healthy(process, port)
        terminal = _read_terminal(master, KEY_PATTERN)
        shown = KEY_PATTERN.findall(terminal)
        assert len(shown) == 1 and "will NOT be shown again" in terminal
        key = shown[0]
        ok = httpx.get(f"http://127.0.0.1:{port}/api/v1/sessions", headers={"x-api-key": key})
        assert ok.status_code == 200
    finally:
        _stop(process)
        os.close(master)
    stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    assert "GET /api/v1/sessions" in stdout  # the access log is there...
    assert key not in stdout and key not in stderr  # ...and the key is not in any log
    assert key[4:20] not in stdout + stderr


def test_without_a_terminal_the_admin_key_goes_to_stderr_once(tmp_path: Path) -> None:
    port = free_port()
    stdout_path, stderr_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            _serve_command(tmp_path / "fresh.db", port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # no controlling terminal, as under a service manager
        )
    try:
        _wait_healthy(process, port)
        shown = KEY_PATTERN.findall(stderr_path.read_text())
        assert len(shown) == 1
        key = shown[0]
        httpx.get(f"http://127.0.0.1:{port}/api/v1/sessions?k={key}", headers={"x-api-key": key})
    finally:
        _stop(process)
    stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    assert "no terminal to show the new admin key on" in stderr
    assert "GET /api/v1/sessions" in stdout
    assert key not in stdout and key[4:20] not in stdout
    assert stderr.count(key[4:20]) == 1  # shown once; the request's copy was masked


def _fragments(key: str) -> list[str]:
    """Pieces of the key's secret part that survive URL encoding unchanged."""
    return [piece for piece in re.findall(r"[A-Za-z0-9]{5,}", key[4:])] + [key[4:]]


def test_every_form_of_a_key_is_masked_in_the_log(start_server: Any) -> None:
    live = start_server()
    key = live.api_key
    encoded = quote(key, safe="")
    every_char = "".join(f"%{byte:02X}" for byte in key.encode())
    forms = {
        "plain": key,
        "percent-encoded _": key.replace("_", "%5F", 1),
        "lowercase escape": key.replace("_", "%5f", 1),
        "upper case": key.upper(),
        "fully percent-encoded": every_char,
        "lowercase fully encoded": every_char.lower(),
        "double-encoded": quote(encoded, safe=""),
    }
    with live.client() as api:
        for form in forms.values():
            api.get(f"/sessions?k={form}")
            api.get(f"/memories?api_key={form}&limit=x")  # a 400 names the bad field
            api.get(f"/sessions/{form}")
            httpx.get(f"{live.api_url}/sessions?key={form}")  # a 401: no key header
        httpx.get(f"{live.api_url}/sessions", headers={"x-api-key": key + "x"})
        httpx.get(f"{live.api_url}/sessions", headers={"Authorization": f"Bearer {key}x"})
    output = live.output()
    assert "GET /api/v1/sessions?k=" in output  # the requests were logged...
    for name, form in forms.items():  # ...with every form of the key masked
        assert form not in output, name
    for fragment in _fragments(key):
        assert fragment not in output, fragment
