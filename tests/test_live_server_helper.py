"""tests.helpers.live_server under parallel test processes (pytest-xdist): a free port
can be taken by another process between free_port() and the server's bind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers import live_server
from tests.helpers.live_server import start_live_server


def listens_on(pid: int, port: int) -> bool:
    return any(
        conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
        for conn in psutil.Process(pid).net_connections(kind="tcp")
    )


class _Healthy(BaseHTTPRequestHandler):
    """Another process's server: answers 200 to everything."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another server already listens on (and answers /health on)."""
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(other.server_address[1])
    finally:
        other.shutdown()
        other.server_close()


def test_a_port_taken_before_the_bind_moves_the_server_to_a_new_one(
    taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks = iter([taken_port])
    real_free_port = live_server.free_port
    monkeypatch.setattr(live_server, "free_port", lambda: next(picks, None) or real_free_port())

    with start_live_server(f"sqlite:///{tmp_path / 'served.db'}") as server:
        assert server.port != taken_port
        assert listens_on(server.pid, server.port)
        answer = httpx.get(f"{server.api_url}/sessions", headers=server.headers, timeout=10.0)
        assert answer.status_code == 200, answer.text
        assert "cannot listen" not in server.output()  # only the start that worked
        server.restart()
        assert listens_on(server.pid, server.port)  # a restart keeps its (new) port


def test_a_port_given_by_the_caller_never_moves(taken_port: int, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="already in use"):
        start_live_server(f"sqlite:///{tmp_path / 'served.db'}", port=taken_port)
