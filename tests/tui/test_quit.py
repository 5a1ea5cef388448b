"""Quitting never waits on workers that no longer matter (issue 14 item 3), but waits
for writes. The executor (memtui.tui.executor) is tested without an App; the quit with
a read in flight runs the real `memtui` in a terminal against a real server that never
finishes its answer."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from memtui.tui.executor import DaemonExecutor
from tests.helpers.pty_run import PtyApp
from tests.tui.conftest import SIZE, wait_until

HELD_FOR = 120.0  # seconds the stalling server holds an answer open (the safety net)


def test_the_executor_runs_work_on_daemon_threads_and_hands_back_errors() -> None:
    executor = DaemonExecutor(max_workers=2)
    assert executor.submit(lambda a, b: a + b, 2, b=3).result(timeout=10) == 5
    failing = executor.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)
    names = [executor.submit(lambda: threading.current_thread()).result(timeout=10)]
    assert all(thread.daemon for thread in names)
    assert executor.threads <= 2
    executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(lambda: None)


def test_shutdown_does_not_wait_for_work_in_flight() -> None:
    executor = DaemonExecutor()
    release = threading.Event()
    started = threading.Event()
    safety = threading.Timer(HELD_FOR, release.set)  # never hang the suite
    safety.start()

    def blocked() -> str:
        started.set()
        release.wait()
        return "done"

    future = executor.submit(blocked)
    assert started.wait(10)
    executor.shutdown(wait=True)  # a ThreadPoolExecutor would wait here until release
    assert not future.done()
    release.set()
    safety.cancel()
    assert future.result(timeout=10) == "done"


def test_the_pool_reuses_an_idle_thread() -> None:
    executor = DaemonExecutor(max_workers=4)
    for _ in range(20):
        executor.submit(lambda: None).result(timeout=10)
    assert executor.threads == 1
    executor.shutdown()


class StallingServer:
    """Accepts HTTP requests and answers one byte at a time, never finishing, until
    `stop()` (or HELD_FOR seconds): a server slower than any timeout."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()
        self._timer = threading.Timer(HELD_FOR, self.stop)
        self._timer.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100_000:
                if self.stopped.wait(0.5):
                    return
                connection.sendall(bytes([byte]))

    def stop(self) -> None:
        self.stopped.set()
        self._timer.cancel()
        self._listener.close()


def test_q_quits_while_a_read_is_still_in_flight(tmp_path: Path) -> None:
    """The store is a server that never finishes answering: q exits at once, while the
    server still holds the request (before: the process stayed until it answered)."""
    server = StallingServer()
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    try:
        url = f"http://127.0.0.1:{server.port}"
        with PtyApp(["--server", url], env=env) as app:
            app.wait_for(f"127.0.0.1:{server.port}")
            deadline = threading.Event()
            while server.connections == 0 and not deadline.wait(0.05):
                pass
            app.send("q")
            app.wait(timeout=HELD_FOR / 2)
            assert not server.stopped.is_set(), "the app waited for the server to finish"
    finally:
        server.stop()


async def test_quit_waits_for_a_write_in_flight(small_store, make_app, settle) -> None:
    """A write still running when q is pressed finishes before the app exits."""
    release = threading.Event()
    safety = threading.Timer(HELD_FOR, release.set)
    safety.start()
    written: list[str] = []
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from memtui.tui.workers import run_backend_call

        def write(backend: object) -> None:
            release.wait()
            written.append("yes")

        run_backend_call(app.session_list, write, action="A write", writes=True)
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running  # waiting for the write
        release.set()
        await wait_until(pilot, lambda: not app.is_running, what="the app exits after it")
    safety.cancel()
    assert written == ["yes"]
