"""Faults the HTTP backend meets before any memtui server is involved: nothing listening,
a socket that never answers, a gateway that fails. Real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from memtui.domain.errors import BackendUnavailableError, InvalidInputError
from memtui.remote import ConnectionStatus, HttpBackend, normalize_base_url
from tests.helpers.live_server import free_port

SECRET_KEY = "mtk_9f3a" + "e" * 40


def test_unreachable_port_gives_a_specific_message_quickly() -> None:
    port = free_port()  # nothing listens there any more
    backend = HttpBackend(f"http://127.0.0.1:{port}", api_key=SECRET_KEY)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as caught:
        backend.list_sessions()
    elapsed = time.monotonic() - started

    assert str(caught.value) == (
        f"cannot reach the memtui server at http://127.0.0.1:{port}: connection refused"
    )
    assert SECRET_KEY not in str(caught.value)
    assert elapsed < 3.0  # bounded retries: the UI worker returns promptly
    state = backend.connection_state
    assert state.status == ConnectionStatus.DISCONNECTED
    assert "connection refused" in state.message
    backend.close()


@pytest.fixture
def silent_socket() -> Iterator[int]:
    """Accepts connections and never answers a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_times_out_with_the_timeout_named(silent_socket: int) -> None:
    backend = HttpBackend(f"http://127.0.0.1:{silent_socket}", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as caught:
        backend.get_session("sess_x")
    elapsed = time.monotonic() - started

    assert str(caught.value) == (
        f"the memtui server at http://127.0.0.1:{silent_socket} timed out after 0.5 s"
    )
    # A read timeout is not retried (the wait already was the timeout).
    assert 0.4 < elapsed < 1.5
    assert backend.connection_state.status == ConnectionStatus.DISCONNECTED
    backend.close()


class _FlakyGateway(BaseHTTPRequestHandler):
    """503 for the first `failures` requests, then a Memtrace-shaped answer."""

    server: _GatewayServer

    def _answer(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if len(self.server.requests) <= self.server.failures:
            body = b'{"error": "database is busy"}'
            self.send_response(503)
        else:
            body = b'{"sessions": [], "count": 0, "has_more": false}'
            self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


class _GatewayServer(ThreadingHTTPServer):
    requests: list[tuple[str, str, dict[str, str]]]
    failures: int


@pytest.fixture
def gateway() -> Iterator[_GatewayServer]:
    server = _GatewayServer(("127.0.0.1", 0), _FlakyGateway)
    server.requests = []
    server.failures = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _health_known(backend: HttpBackend) -> None:
    # Skip the /health probe: these tests are about one request's retries.
    from memtui.remote.backend import ServerInfo

    backend._info = ServerInfo(service="memtui", version="test", features=frozenset())


def test_idempotent_requests_are_retried_through_a_passing_503(gateway: _GatewayServer) -> None:
    gateway.failures = 2
    backend = HttpBackend(f"http://127.0.0.1:{gateway.server_port}", api_key=SECRET_KEY)
    _health_known(backend)

    assert backend.list_sessions() == []
    assert len(gateway.requests) == 3  # two 503s, then the answer
    # The key travels in the header Memtrace reads.
    assert gateway.requests[-1][2].get("x-api-key") == SECRET_KEY
    assert backend.connection_state.status == ConnectionStatus.CONNECTED
    backend.close()


def test_a_lasting_5xx_names_the_status_and_the_server_text(gateway: _GatewayServer) -> None:
    gateway.failures = 100
    backend = HttpBackend(f"http://127.0.0.1:{gateway.server_port}")
    _health_known(backend)

    with pytest.raises(BackendUnavailableError) as caught:
        backend.list_sessions()
    assert str(caught.value) == "server error 503: database is busy"
    assert len(gateway.requests) == 3  # bounded: three attempts, then give up
    assert backend.connection_state.status == ConnectionStatus.DISCONNECTED


def test_non_idempotent_posts_are_never_retried_after_reaching_the_server(
    gateway: _GatewayServer,
) -> None:
    gateway.failures = 100
    backend = HttpBackend(f"http://127.0.0.1:{gateway.server_port}")
    _health_known(backend)

    with pytest.raises(BackendUnavailableError):
        backend.create_agent("writer")
    assert [r[0] for r in gateway.requests] == ["POST"]  # sent once: it may have applied


def test_describe_masks_the_key_and_repr_never_shows_it() -> None:
    backend = HttpBackend("http://127.0.0.1:9100/", api_key=SECRET_KEY)
    assert backend.describe() == "http://127.0.0.1:9100 (key mtk_9f3a…)"
    assert SECRET_KEY not in repr(backend)
    assert HttpBackend("127.0.0.1:9100").describe() == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:9100", "http://127.0.0.1:9100"),
        ("http://127.0.0.1:9100/", "http://127.0.0.1:9100"),
        ("http://127.0.0.1:9100/api/v1/", "http://127.0.0.1:9100"),
        ("localhost:9100", "http://localhost:9100"),
        ("https://memory.example.org/prefix", "https://memory.example.org/prefix"),
    ],
)
def test_server_urls_are_normalised(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("bad", ["", "ftp://host/", "http://"])
def test_bad_server_urls_are_refused_by_name(bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        normalize_base_url(bad)
    assert caught.value.field == "server"
