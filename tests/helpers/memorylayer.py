"""A real MemoryLayer server (`memorylayer-server` 0.2.0) and its official client
(`memorylayer-client` 0.2.1) for tests, in a cached Python 3.12 virtualenv.

    def test_something(memorylayer_server: MemoryLayerServer) -> None:
        httpx.post(f"{memorylayer_server.url}/v1/sessions", json={"workspace_id": "w"})
        out = memorylayer_server.run_client('''
            session = await client.create_session(ttl_seconds=600, workspace_id="w")
            emit({"id": session.id})
        ''')

- **The virtualenv** is built once and cached under `MEMTUI_TEST_CACHE_DIR` (default
  `~/.cache/memtui-tests`), in a folder named after the pinned versions and the Python
  build, so it survives between runs and a new pin gets a new folder. A file lock makes
  two pytest processes that need it at once build it once; a build that died half-way
  (no `.complete` marker) is thrown away and redone.
- **Python 3.12** is what the server needs. It is looked up as `MEMTUI_PYTHON312`, then
  under pyenv (`$PYENV_ROOT/versions/3.12.*`), then `python3.12` on PATH. Without it the
  tests skip and say why; with `MEMTUI_REQUIRE_MEMORYLAYER=1` (`.ci/run` sets it) the skip
  is a failure, so CI cannot go green without having run them.
- **The server** starts through a small launcher script that puts `pysqlite3` in place of
  the stdlib `sqlite3` before MemoryLayer is imported (pyenv's Python lacks
  `enable_load_extension`; see ../shared/peers/README.md), on a free 127.0.0.1 port, with
  its own data dir and HOME and `MEMORYLAYER_EMBEDDING_PROVIDER=hash` (no model download).
  It is ready when `GET /health` answers; it is stopped by PID (its own process group).

The session-scoped `memorylayer_server` fixture is shared by a whole run (use your own
workspace ids to keep tests apart); `memorylayer_server_factory` starts private ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from tests.helpers.live_server import PORT_ATTEMPTS, PortTaken, free_port, listens_on

PINNED = ("memorylayer-server==0.2.0", "memorylayer-client==0.2.1", "pysqlite3==0.6.1")
REQUIRE_ENV = "MEMTUI_REQUIRE_MEMORYLAYER"
BUILD_TIMEOUT_SECONDS = 1200.0
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 15.0

LAUNCHER = '''\
"""Start memorylayer-server with pysqlite3 in place of sqlite3 (written by memtui's tests).

pyenv's Python here lacks sqlite3.Connection.enable_load_extension, which MemoryLayer's
SQLite storage needs; pysqlite3 has it. The swap must happen before anything imports
sqlite3. Usage: python memorylayer_launch.py PORT
"""
import sys

import pysqlite3
import pysqlite3.dbapi2

sys.modules["sqlite3"] = pysqlite3
sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2

from memorylayer_server.cli import cli  # noqa: E402

sys.argv = ["memorylayer", "serve", "--host", "127.0.0.1", "--port", sys.argv[1]]
cli()
'''

# Wraps a test's snippet: an async body with `client` (a MemoryLayerClient on the URL,
# workspace from MEMORYLAYER_WORKSPACE and API key from MEMORYLAYER_API_KEY if set) and
# `emit(obj)`, which prints one JSON line.
CLIENT_PRELUDE = """\
import asyncio, json, os, sys
from memorylayer import MemoryLayerClient

def emit(obj):
    def plain(value):
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        raise TypeError(type(value).__name__)
    print("EMIT " + json.dumps(obj, default=plain), flush=True)

async def _main():
    async with MemoryLayerClient(
        base_url=os.environ["MEMORYLAYER_URL"],
        workspace_id=os.environ.get("MEMORYLAYER_WORKSPACE") or None,
        api_key=os.environ.get("MEMORYLAYER_API_KEY") or None,
        max_retries=0,
    ) as client:
{body}

asyncio.run(_main())
"""


class MemoryLayerUnavailable(Exception):
    """Why the real server cannot run here (no Python 3.12, the install failed…)."""


# --- Python 3.12 and the virtualenv ---------------------------------------------------


def _python_version(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python312() -> tuple[str, str]:
    """(executable, full version) of a Python 3.12; raises MemoryLayerUnavailable."""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [
        os.environ.get("MEMTUI_PYTHON312", ""),
        *sorted(glob.glob(f"{pyenv_root}/versions/3.12.*/bin/python3.12"), reverse=True),
        shutil.which("python3.12") or "",
    ]
    for candidate in filter(None, candidates):
        version = _python_version(candidate)
        if version and version.startswith("3.12."):
            return candidate, version
    raise MemoryLayerUnavailable(
        "no Python 3.12 found (looked at $MEMTUI_PYTHON312, "
        f"{pyenv_root}/versions/3.12.*, python3.12 on PATH); memorylayer-server needs it"
    )


def cache_root() -> Path:
    override = os.environ.get("MEMTUI_TEST_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memtui-tests"


def venv_path(python_version: str) -> Path:
    key = hashlib.sha256(json.dumps([python_version, *PINNED]).encode()).hexdigest()[:12]
    return cache_root() / f"memorylayer-venv-{key}"


def _build(venv: Path, python: str, log_path: Path) -> float:
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        for command in (
            [python, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *PINNED,
            ],
        ):
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            remaining = BUILD_TIMEOUT_SECONDS - (time.monotonic() - started)
            try:
                done = subprocess.run(
                    command, stdout=log, stderr=subprocess.STDOUT, timeout=max(remaining, 1)
                )
            except subprocess.TimeoutExpired as exc:
                raise MemoryLayerUnavailable(
                    f"building the MemoryLayer virtualenv took over {BUILD_TIMEOUT_SECONDS:.0f} s "
                    f"(log: {log_path})"
                ) from exc
            if done.returncode != 0:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise MemoryLayerUnavailable(
                    f"building the MemoryLayer virtualenv failed (log: {log_path}):\n{tail}"
                )
    (venv / "memorylayer_launch.py").write_text(LAUNCHER, encoding="utf-8")
    return time.monotonic() - started


def ensure_venv() -> Path:
    """The cached virtualenv, built now if it does not exist yet. Safe across processes."""
    python, version = find_python312()
    venv = venv_path(version)
    marker = venv / ".complete"
    if marker.is_file():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if marker.is_file():
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a build that died half-way
        try:
            seconds = _build(venv, python, venv.parent / f"{venv.name}.build.log")
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        marker.write_text(
            json.dumps({"python": version, "pins": PINNED, "build_seconds": round(seconds, 1)})
        )
    return venv


def build_info(venv: Path) -> dict[str, Any]:
    """What `.complete` recorded: the Python version, the pins and the build time."""
    return json.loads((venv / ".complete").read_text())


# --- the server -----------------------------------------------------------------------


class MemoryLayerServer:
    """A running memorylayer-server; `stop()` it (or use `with`)."""

    def __init__(self, venv: Path, root: Path, *, port: int | None = None) -> None:
        self.venv = venv
        self.root = root
        self._port_may_move = port is None  # see tests.helpers.live_server
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.data_dir = root / "data"
        self.home = root / "home"
        self.log_path = root / "server.log"
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("memorylayer-server is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMORYLAYER_")}
        env.update(
            {
                "HOME": str(self.home),
                "MEMORYLAYER_DATA_DIR": str(self.data_dir),
                "MEMORYLAYER_EMBEDDING_PROVIDER": "hash",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("PYTHONPATH", None)  # never let memtui's path leak into the 3.12 venv
        return env

    def start(self) -> MemoryLayerServer:
        for attempt in range(PORT_ATTEMPTS):
            try:
                return self._start_once()
            except PortTaken:
                if attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self) -> MemoryLayerServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [
                    str(self.venv / "bin" / "python"),
                    str(self.venv / "memorylayer_launch.py"),
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.root,
                start_new_session=True,
            )
        self._wait_until_healthy()
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                output = self.output()[-3000:]
                if self._port_may_move and "address already in use" in output.lower():
                    raise PortTaken(output)  # another process bound the free port first
                raise RuntimeError(f"memorylayer-server exited with {code}:\n{output}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{self.url}/health", timeout=2.0)
                if (
                    answer.status_code == 200
                    and answer.json().get("status") == "healthy"
                    and listens_on(self.pid, self.port)
                ):
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"memorylayer-server did not become healthy:\n{self.output()[-3000:]}")

    def stop(self) -> int | None:
        """SIGTERM to its process group, then SIGKILL if it does not exit in time."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._process = None
        return process.returncode

    def run_client(
        self, body: str, *, workspace_id: str | None = None, timeout: float = 120.0
    ) -> list[Any]:
        """Runs `body` in the venv with the real `memorylayer-client` against this server
        and returns what it `emit()`ed. A failure raises with the snippet's stderr."""
        return run_client(
            self.url, body, workspace_id=workspace_id, timeout=timeout, venv=self.venv
        )

    def __enter__(self) -> MemoryLayerServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_client(
    url: str,
    body: str,
    *,
    workspace_id: str | None = None,
    timeout: float = 120.0,
    venv: Path | None = None,
    api_key: str | None = None,
) -> list[Any]:
    """Runs an async snippet with the real `memorylayer-client` against `url` (any server
    that claims to speak MemoryLayer, memtui's own included, which needs `api_key`).
    Inside the snippet, `client` is an open `MemoryLayerClient` and `emit(obj)` records a
    JSON-able result."""
    venv = venv or ensure_venv()
    script = CLIENT_PRELUDE.format(body=textwrap.indent(textwrap.dedent(body).strip(), " " * 8))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MEMORYLAYER_URL"] = url
    env.pop("MEMORYLAYER_WORKSPACE", None)
    env.pop("MEMORYLAYER_API_KEY", None)
    if workspace_id:
        env["MEMORYLAYER_WORKSPACE"] = workspace_id
    if api_key:
        env["MEMORYLAYER_API_KEY"] = api_key
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            [str(venv / "bin" / "python"), handle.name],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise AssertionError(
            f"memorylayer-client snippet failed ({done.returncode}):\n{done.stderr[-4000:]}"
        )
    return [json.loads(line[5:]) for line in done.stdout.splitlines() if line.startswith("EMIT ")]


# --- pytest ---------------------------------------------------------------------------


def memorylayer_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def skip_or_fail(reason: str) -> None:
    if memorylayer_required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def memorylayer_venv() -> Path:
    """The cached virtualenv with the pinned server, client and pysqlite3."""
    try:
        return ensure_venv()
    except MemoryLayerUnavailable as exc:
        skip_or_fail(str(exc))
        raise  # unreachable: skip_or_fail raises


@pytest.fixture(scope="session")
def memorylayer_server_factory(
    memorylayer_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], MemoryLayerServer]]:
    """Starts private servers (each with its own data); all are stopped at the end."""
    started: list[MemoryLayerServer] = []

    def start() -> MemoryLayerServer:
        server = MemoryLayerServer(memorylayer_venv, tmp_path_factory.mktemp("memorylayer"))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def memorylayer_server(
    memorylayer_server_factory: Callable[[], MemoryLayerServer],
) -> MemoryLayerServer:
    """One real memorylayer-server for the whole run; tests keep apart by workspace."""
    return memorylayer_server_factory()


if __name__ == "__main__":  # `python -m tests.helpers.memorylayer`: build and time it
    began = time.monotonic()
    path = ensure_venv()
    print(f"venv {path} ready in {time.monotonic() - began:.1f} s; {build_info(path)}")
    with MemoryLayerServer(path, Path(tempfile.mkdtemp(prefix="memorylayer-"))) as server:
        server.start()
        print(
            f"server {server.url} healthy after {server.startup_seconds:.1f} s (pid {server.pid})"
        )
    sys.exit(0)
