"""Quit benchmark (issue 14 item 3): time from pressing q to the process's exit.

    python bench/bench_quit.py [--runs 5] [--source DIR]

Each variant runs the real program in a pseudo-terminal (fresh process per run, the
variants interleaved round by round so machine load hits them alike):
- `minimal`: a minimal Textual app (Header, Static, Footer) that quits on q;
- `idle`: memtui on a demo SQLite store, once its session list is live;
- `read in flight`: memtui on a server that accepts the request and then answers one
  byte every 0.5 s for HOLD seconds (a read slower than any timeout): q is pressed
  while the app still waits for it.
`--source DIR` runs the memtui package found in DIR instead (e.g. an export of main, for
the figures before a change). Prints medians and `uptime`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

HOLD = 20.0  # seconds the slow server holds each answer open

MINIMAL = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Header()
        yield Static("ready")
        yield Footer()

Minimal().run()
"""


class SlowServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.accepted = threading.Event()
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.set()
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            deadline = time.monotonic() + HOLD
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 10_000:
                if time.monotonic() > deadline or self._stop.wait(0.5):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()


def run_in_pty(
    argv: list[str], env: dict[str, str], ready: Callable[[bytes], bool], cwd: str
) -> float:
    """Start `argv` in a pty, wait until `ready(output)` (or the server accepted),
    press q and return the seconds until the process exited."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + 60

    def drain(timeout: float) -> None:
        readable, _, _ = select.select([master], [], [], timeout)
        if readable:
            with contextlib.suppress(OSError):
                output.extend(os.read(master, 65536))

    while time.monotonic() < deadline and not ready(bytes(output)):
        drain(0.05)
    time.sleep(0.3)  # let it settle into its idle loop
    start = time.perf_counter()
    os.write(master, b"q")
    while process.poll() is None:
        drain(0.01)
    elapsed = time.perf_counter() - start
    os.close(master)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", type=Path, help="a directory holding the memtui package")
    args = parser.parse_args()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    if args.source is not None:
        env["PYTHONPATH"] = str(args.source.resolve())
    figures: dict[str, list[float]] = {"minimal": [], "idle": [], "read in flight": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("config", "data", "cache"):
            (Path(tmp) / name).mkdir()
            env[f"MEMTUI_{name.upper()}_DIR"] = str(Path(tmp) / name)
        db = f"sqlite:///{tmp}/demo.db"
        subprocess.run(
            [sys.executable, "-m", "memtui", "--db", db, "demo"],
            env=env,
            check=True,
            capture_output=True,
            cwd=tmp,
        )
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        for _ in range(args.runs):
            figures["minimal"].append(
                run_in_pty([sys.executable, str(minimal)], env, lambda out: b"ready" in out, tmp)
            )
            figures["idle"].append(
                run_in_pty(
                    [sys.executable, "-m", "memtui", "--db", db],
                    env,
                    lambda out: b"live" in out,
                    tmp,
                )
            )
            server = SlowServer()
            try:
                figures["read in flight"].append(
                    run_in_pty(
                        [
                            sys.executable,
                            "-m",
                            "memtui",
                            "--server",
                            f"http://127.0.0.1:{server.port}",
                        ],
                        env,
                        lambda out, server=server: server.accepted.is_set(),
                        tmp,  # not the repository: `-m memtui` would import it from the cwd
                    )
                )
            finally:
                server.stop()
    medians = {name: round(statistics.median(values) * 1000, 1) for name, values in figures.items()}
    worst = {name: round(max(values) * 1000, 1) for name, values in figures.items()}
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        json.dumps(
            {"quit_ms_median": medians, "quit_ms_max": worst, "runs": args.runs, "uptime": load},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
