"""Fixtures for the remote tests: real `memtui serve` processes on 127.0.0.1 (started
with tests.helpers.live_server) and HttpBackends pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memtui.domain.clock import FileClock
from memtui.remote import HttpBackend
from tests.conftest import FROZEN_NOW


@pytest.fixture
def served_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'served.db'}"


@pytest.fixture
def file_clock(tmp_path: Path) -> FileClock:
    """The clock both the server (MEMTUI_CLOCK_FILE) and the client follow."""
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(FROZEN_NOW)
    return clock


@pytest.fixture
def live_server(served_db: str, file_clock: FileClock) -> Iterator[Any]:
    from tests.helpers.live_server import start_live_server

    server = start_live_server(served_db, clock_file=file_clock.path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote(live_server: Any, file_clock: FileClock) -> Iterator[HttpBackend]:
    backend = HttpBackend(live_server.url, api_key=live_server.api_key, clock=file_clock)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One memtui server for a module's tests that do not stop it (a start costs ~2 s)."""
    from tests.helpers.live_server import start_live_server

    clock = FileClock(str(tmp_path_factory.mktemp("shared-clock") / "clock"))
    clock.set(FROZEN_NOW)
    db_url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'shared.db'}"
    server = start_live_server(db_url, clock_file=clock.path)
    server.file_clock = clock
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_remote(shared_server: Any) -> Iterator[HttpBackend]:
    backend = HttpBackend(
        shared_server.url, api_key=shared_server.api_key, clock=shared_server.file_clock
    )
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A stand-in for a plain Memtrace server (tests/helpers/plain_memtrace.py)."""
    from tests.helpers.live_server import start_live_server

    db_url = f"sqlite:///{tmp_path_factory.mktemp('plain') / 'plain.db'}"
    server = start_live_server(db_url, plain_memtrace=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plain_remote(plain_server: Any) -> Iterator[HttpBackend]:
    backend = HttpBackend(plain_server.url, api_key=plain_server.api_key)
    try:
        yield backend
    finally:
        backend.close()


def wait_for(predicate: Any, *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout`."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)
