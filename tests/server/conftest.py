"""Fixtures for the server tests: real `memtui serve` processes on 127.0.0.1.

One server per test module (`server`) keeps the suite fast; tests that need a clean
store, a controlled clock or a stopped server start their own with `start_server`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from memtui.domain.clock import FileClock
from tests.helpers.live_server import LiveServer, start_live_server
from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

# The instant server clocks start at in tests that control time.
CLOCK_START = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server shared by one test module, on its own SQLite file."""
    db = tmp_path_factory.mktemp("server") / "served.db"
    with start_live_server(f"sqlite:///{db}") as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    """httpx on {server}/api/v1 with a valid key."""
    with server.client(timeout=10.0) as client:
        yield client


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts servers for one test (stopped afterwards); kwargs go to start_live_server."""
    started: list[LiveServer] = []

    def start(db_url: str | None = None, **kwargs: Any) -> LiveServer:
        live = start_live_server(db_url or f"sqlite:///{tmp_path / 'own.db'}", **kwargs)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for one test (skips, or fails in CI, without one)."""
    skip_or_fail_without_postgres()
    with throwaway_database("memtui_server") as url:
        yield url


@pytest.fixture
def file_clock(tmp_path: Path) -> FileClock:
    """A clock file a server started with clock_file=... reads "now" from."""
    clock = FileClock(str(tmp_path / "clock.txt"))
    clock.set(CLOCK_START)
    return clock


def assert_rfc3339(value: Any) -> datetime:
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed
