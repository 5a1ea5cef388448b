"""A request that never arrives in full does not hold a connection (issue 8 item 12): a
real `memtui serve --read-timeout 1` closes connections whose request stops halfway,
answering 408 where a request had begun, and still serves whole requests and long event
streams."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.helpers.sse import events

READ_TIMEOUT = "1"
# Only a bound so that a broken server fails the test instead of hanging it.
SOCKET_TIMEOUT_SECONDS = 20.0


def _connect(live: Any) -> socket.socket:
    sock = socket.create_connection((live.host, live.port), timeout=SOCKET_TIMEOUT_SECONDS)
    sock.settimeout(SOCKET_TIMEOUT_SECONDS)
    return sock


def _read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk


def _status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_half_sent_requests_are_answered_408_and_closed(start_server: Any) -> None:
    live = start_server(extra_args=["--read-timeout", READ_TIMEOUT])
    key = live.api_key.encode()
    silent = _connect(live)  # connected, sends nothing
    half_line = _connect(live)
    half_line.sendall(b"GET /api/v1/sess")
    half_head = _connect(live)
    half_head.sendall(b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nx-api-key: " + key)
    half_body = _connect(live)
    half_body.sendall(
        b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        b"x-api-key: " + key + b"\r\ncontent-length: 100\r\n\r\n" + b'{"agent_id": '
    )
    # A slow client that keeps sending a byte now and then gets no longer than that.
    trickle = _connect(live)
    for byte in b"GET /api/v1/sessions HTTP/1.1\r\n":
        if select.select([trickle], [], [], 0.1)[0]:
            break  # the server answered (and closed): send nothing more into a reset
        trickle.sendall(bytes([byte]))

    assert _read_to_close(silent) == b""
    for sock in (half_line, half_head, half_body, trickle):
        status, body = _status_and_body(_read_to_close(sock))
        assert status == 408 and "did not arrive in full" in body["error"]
    for sock in (silent, half_line, half_head, half_body, trickle):
        sock.close()
    output = live.output()
    assert "Traceback" not in output
    assert live.api_key not in output


def test_many_half_sent_requests_do_not_keep_the_server_busy(start_server: Any) -> None:
    live = start_server(extra_args=["--read-timeout", READ_TIMEOUT])
    stuck = [_connect(live) for _ in range(100)]
    for sock in stuck:
        sock.sendall(b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\n")
    for sock in stuck:
        assert _read_to_close(sock).startswith(b"HTTP/1.1 408 ")
        sock.close()
    with live.client(timeout=10.0) as api:
        assert api.get("/sessions").status_code == 200


def test_whole_requests_and_long_streams_are_not_cut(start_server: Any) -> None:
    live = start_server(extra_args=["--read-timeout", READ_TIMEOUT])
    with live.client(timeout=10.0) as api:
        api.post("/agents", json={"name": "slow"})
    with live.client(timeout=10.0) as api, events(live) as reader:
        time.sleep(2.5)  # an idle stream, well past the read timeout
        api.post("/memories", json={"agent_id": "slow", "content": "still here"})
        event = reader.next_event()
        assert event.data["data"]["content"] == "still here"
        # Keep-alive: the next request on the same connection, after a pause.
        time.sleep(0.5)
        assert api.get("/sessions").status_code == 200


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--read-timeout", "0", "--read-timeout 0 is out of range"),
        ("--read-timeout", "nan", "--read-timeout nan is out of range"),
        ("--max-event-streams", "0", "--max-event-streams 0 is out of range"),
    ],
)
def test_serve_options_out_of_range_are_one_line(option: str, value: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memtui", "serve", "--db", "sqlite://", option, value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"memtui: {message} " + _range(option)]


def _range(option: str) -> str:
    return "(0.1-3600 seconds)" if option == "--read-timeout" else "(1-100000)"
