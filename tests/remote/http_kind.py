"""The "http" backend kind of the contract suite: `HttpBackend` against a real
`memtui serve` process.

One server runs for the whole test session (starting a process per test would cost a
second each); before every test its SQLite file is emptied (API keys kept) and its
clock file is set to the test's start instant, so each test sees an empty store and
a clock it controls, exactly as with the in-process stores.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from memtui.backend import Backend
from memtui.domain.clock import FileClock

# Everything but the keys the server authenticates with.
WIPED_TABLES = (
    "trash",
    "change",
    "memory_tag",
    "memory",
    "working_memory",
    "snapshot",
    "session",
    "agent",
)

_clock_path: Path | None = None


def shared_clock_path() -> Path:
    """The one clock file the session's server reads (MEMTUI_CLOCK_FILE)."""
    global _clock_path
    if _clock_path is None:
        _clock_path = Path(tempfile.mkdtemp(prefix="memtui-http-contract-")) / "clock"
    return _clock_path


def make_http_clock(_tmp_path: Path, start: datetime) -> FileClock:
    clock = FileClock(str(shared_clock_path()))
    clock.set(start)
    return clock


@pytest.fixture(scope="session")
def http_contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.conftest import FROZEN_NOW
    from tests.helpers.live_server import start_live_server

    db_url = f"sqlite:///{tmp_path_factory.mktemp('http-contract') / 'served.db'}"
    clock_path = shared_clock_path()
    if not clock_path.exists():
        FileClock(str(clock_path)).set(FROZEN_NOW)
    server = start_live_server(db_url, clock_file=str(clock_path))
    try:
        yield server
    finally:
        server.stop()


def wipe_store(db_url: str) -> None:
    """Empty the served store between tests (the schema and API keys stay)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            for table in WIPED_TABLES:
                if table in present:
                    conn.execute(text(f'DELETE FROM "{table}"'))
            if (
                conn.dialect.name == "sqlite"
                and conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
                ).first()
            ):
                conn.execute(text("DELETE FROM sqlite_sequence"))  # change ids restart at 1
    finally:
        engine.dispose()


@contextmanager
def open_http_backend(request: pytest.FixtureRequest, clock: Any) -> Iterator[Backend]:
    from memtui.remote import HttpBackend

    server = request.getfixturevalue("http_contract_server")
    wipe_store(server.db_url)
    backend = HttpBackend(server.url, api_key=server.api_key, clock=clock)
    try:
        yield backend
    finally:
        backend.close()
