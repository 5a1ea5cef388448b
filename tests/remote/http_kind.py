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
    "change",
    "memory_tag",
    "memory",
    "working_memory",
    "snapshot",
    "session",
    "agent",
)

_clock_path: Path | None = None

# Contract tests the served API cannot pass yet, each for a reason on the server's side
# (reported to the server's owner). Marked xfail (not strict) only for the http kind, so
# they start passing by themselves once the server carries what they need.
SERVER_GAPS = {
    "test_ensure_agent_registers_once": (
        "POST /agents cannot register an agent under a given id (the SQL store's "
        "ensure_agent uses id = name); needs an `id` field or an ensure route"
    ),
    **{
        name: "POST /memories ignores NewMemory.time (memories get the server's now)"
        for name in (
            "test_agent_stats",
            "test_since_and_types_filter",
            "test_times_round_trip_as_aware_utc",
            "test_since_until_and_agent_filters",
            "test_briefing",
        )
    },
}


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

    gap = SERVER_GAPS.get(request.node.originalname)
    if gap is not None:
        request.applymarker(pytest.mark.xfail(reason=f"server gap: {gap}", strict=False))
    server = request.getfixturevalue("http_contract_server")
    wipe_store(server.db_url)
    backend = HttpBackend(server.url, api_key=server.api_key, clock=clock)
    try:
        yield backend
    finally:
        backend.close()
