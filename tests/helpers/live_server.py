"""A real `memtui serve` process on 127.0.0.1 for tests.

    with start_live_server(sqlite_url) as server:
        httpx.get(f"{server.url}/api/v1/sessions", headers={"x-api-key": server.api_key})

The server runs as `python -m memtui serve` in a subprocess at a free port. An API key
is created in the store before it starts (so the server prints no admin key); its
stdout/stderr go to a log file (`server.output()`), which tests use to prove that no
secret is ever logged. `clock_file` makes the server read "now" from that file
(MEMTUI_CLOCK_FILE), so tests can move its clock.

Several test processes (pytest-xdist) start servers at once, so a free port can be
taken by another process before this server binds it. The server counts as started
only when /health answers *and* this process listens on the port; a first start that
finds its port taken tries again on a new one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
PORT_ATTEMPTS = 5  # new ports tried when another process took the free one first


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """True when process `pid` (or one of its children) listens on TCP `port`. An answer
    on the port alone could come from another test process's server."""
    import psutil

    try:
        process = psutil.Process(pid)
        for proc in (process, *process.children(recursive=True)):
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return True
    except psutil.Error:
        return False
    return False


class PortTaken(RuntimeError):
    """The server exited because another process bound its port first."""


def create_api_key(db_url: str, name: str = "tests") -> str:
    """Creates a key in the store at `db_url` and returns it (shown only this once)."""
    from memtui.store.api_keys import SqlKeyStore

    key_store = SqlKeyStore.open(db_url)
    try:
        return key_store.create(name).key
    finally:
        key_store.close()


class LiveServer:
    """A running `memtui serve` subprocess (or, with `plain_memtrace`, the plain
    Memtrace stand-in of tests/helpers/plain_memtrace.py); `stop()` it (or use `with`)."""

    def __init__(
        self,
        db_url: str,
        *,
        api_key: str,
        port: int | None = None,
        clock_file: str | None = None,
        plain_memtrace: bool = False,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.api_key = api_key
        # A port of our own choosing may move if another process takes it first.
        self._port_may_move = port is None
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.clock_file = clock_file
        self.plain_memtrace = plain_memtrace
        self.extra_env = dict(extra_env or {})
        self.extra_args = list(extra_args or [])
        self._log_dir = Path(tempfile.mkdtemp(prefix="memtui-live-server-"))
        self._log_path = self._log_dir / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    # --- facts ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client on the API base URL carrying the key."""
        return httpx.Client(base_url=self.api_url, headers=self.headers, **kwargs)  # type: ignore[arg-type]

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> LiveServer:
        for attempt in range(PORT_ATTEMPTS):
            try:
                self._start_once()
                break
            except PortTaken:
                if attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()
        self._port_may_move = False  # a restart comes back on the same port
        return self

    def _start_once(self) -> LiveServer:
        env = dict(os.environ)
        env.update(self.extra_env)
        env["PYTHONUNBUFFERED"] = "1"
        if self.clock_file:
            env["MEMTUI_CLOCK_FILE"] = self.clock_file
        else:
            env.pop("MEMTUI_CLOCK_FILE", None)
        # plain_memtrace: the stand-in for a plain Memtrace server (tests/helpers), run
        # from the repository root so that `tests` is importable.
        program = ["tests.helpers.plain_memtrace"] if self.plain_memtrace else ["memtui", "serve"]
        if self.plain_memtrace:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])
            )
        command = [
            sys.executable,
            "-m",
            *program,
            "--db",
            self.db_url,
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        command.extend(self.extra_args)
        log = open(self._log_path, "ab")  # noqa: SIM115 - handed to the child process
        log_size = log.tell()
        try:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        finally:
            log.close()
        try:
            self._wait_until_healthy()
        except PortTaken:
            with open(self._log_path, "ab") as log:
                log.truncate(log_size)  # the output holds only the start that worked
            raise
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                output = self.output()
                if f"cannot listen on {self.host}:{self.port}" in output and self._port_may_move:
                    raise PortTaken(output)
                raise RuntimeError(f"memtui serve exited with {code}:\n{output}")
            try:
                answer = httpx.get(f"{self.url}/health", timeout=1.0)
                if answer.status_code == 200 and listens_on(self.pid, self.port):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"memtui serve did not become healthy:\n{self.output()}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._process = None
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: the server dies without any cleanup (for fault tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._process = None

    def restart(self) -> LiveServer:
        """Stops the server and starts it again on the same port and database."""
        self.stop()
        return self.start()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_live_server(
    db_url: str,
    *,
    clock_file: str | None = None,
    plain_memtrace: bool = False,
    port: int | None = None,
    api_key: str | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> LiveServer:
    """Starts `memtui serve` on 127.0.0.1 with the store at `db_url` and waits for
    /health. Creates an API key first unless `api_key` (already in the store) is given.
    `extra_args` go to `memtui serve` (e.g. ["--read-timeout", "1"])."""
    key = api_key or create_api_key(db_url)
    server = LiveServer(
        db_url,
        api_key=key,
        port=port,
        clock_file=clock_file,
        plain_memtrace=plain_memtrace,
        extra_env=extra_env,
        extra_args=extra_args,
    )
    return server.start()
