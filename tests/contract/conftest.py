"""The backend contract suite: every test here uses only the Backend protocol and runs
once per backend kind.

Add a backend kind by adding an entry to BACKEND_KINDS: a function that takes the
pytest request and the test's clock and yields a ready, empty Backend, plus
(optionally) how to make a clock that the backend can follow (a ManualClock for
in-process stores; a FileClock for a server in another process).

A test that needs more than the core says so, and runs only where it is offered:

    @pytest.mark.requires(Capability.SESSION_CLOSE, TEST_CLOCK)

Capabilities are read from the opened backend's `capabilities()`; TEST_CLOCK means
"the backend follows the clock the test moves" (a kind's `follows_test_clock`; a
real MemoryLayer server keeps its own time). A kind that lacks a requirement reports
the test as skipped with what it lacks; nothing is skipped by hand. A test without the
marker that reaches for what a kind lacks (the backend raises UnsupportedError naming
a capability it does not list, or the test moves a clock the kind cannot follow) is
reported the same way, so a new test never fails on a kind for what it does not offer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool

from memtui.backend import Backend
from memtui.domain.clock import ManualClock
from memtui.domain.errors import UnsupportedError
from tests.helpers.requirements import TEST_CLOCK, NoTestClock

STORE_DATA_TABLES = (
    "trash",
    "change",
    "memory_tag",
    "memory",
    "working_memory",
    "snapshot",
    "session",
    "agent",
    "api_key",
)


@dataclass(frozen=True)
class BackendKind:
    """How to open one kind of backend for a contract test."""

    open: Callable[[pytest.FixtureRequest, Any], AbstractContextManager[Backend]]
    # (tmp_path, start instant) -> a clock with .now and .advance(**delta)
    make_clock: Callable[[Path, datetime], Any] = lambda _tmp, start: ManualClock(start)
    follows_test_clock: bool = True


# --- sqlite ------------------------------------------------------------------------------


@contextmanager
def _open_sqlite(request: pytest.FixtureRequest, clock: Any) -> Iterator[Backend]:
    from memtui.store import SqlStore

    tmp_path: Path = request.getfixturevalue("tmp_path")
    store = SqlStore(f"sqlite:///{tmp_path / 'contract.db'}", clock=clock)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _open_base(request: pytest.FixtureRequest, clock: Any) -> Iterator[Backend]:
    """BackendBase's built-in operations over a SQLite store's core methods."""
    from memtui.store import SqlStore
    from tests.helpers.core_only_backend import CoreOnlyBackend

    tmp_path: Path = request.getfixturevalue("tmp_path")
    backend = CoreOnlyBackend(SqlStore(f"sqlite:///{tmp_path / 'contract.db'}", clock=clock))
    try:
        yield backend
    finally:
        backend.close()


# --- postgres ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database `memtui_test_<random>` on the local PostgreSQL server for
    the whole test session, dropped afterwards. Skips (or fails, with
    MEMTUI_REQUIRE_POSTGRES=1) when the server is unreachable."""
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_test") as url:
        yield url


def empty_postgres(url: str) -> None:
    """Delete every row of the store tables (the schema stays), so each test starts
    clean. DELETE beats TRUNCATE on tables this small."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            for table in STORE_DATA_TABLES:
                if table in present:
                    conn.execute(text(f'DELETE FROM "{table}"'))
    finally:
        engine.dispose()


@contextmanager
def _open_postgres(request: pytest.FixtureRequest, clock: Any) -> Iterator[Backend]:
    from memtui.store import SqlStore

    url = request.getfixturevalue("postgres_url")
    empty_postgres(url)
    store = SqlStore(url, clock=clock)
    try:
        yield store
    finally:
        store.close()


# --- http: HttpBackend against a real `memtui serve` (owned by tests/remote) ------------

from tests.remote.http_kind import (  # noqa: E402
    http_contract_server,  # noqa: F401 - a session fixture the "http" kind requests
    make_http_clock,
    open_http_backend,
)

# --- memorylayer: MemoryLayerBackend against a real memorylayer-server ---------------
from tests.remote.memorylayer_kind import (  # noqa: E402
    make_memorylayer_clock,
    open_memorylayer_backend,
)

BACKEND_KINDS: dict[str, BackendKind] = {
    "sqlite": BackendKind(open=_open_sqlite),
    "base": BackendKind(open=_open_base),
    "postgres": BackendKind(open=_open_postgres),
    "http": BackendKind(open=open_http_backend, make_clock=make_http_clock),
    "memorylayer": BackendKind(
        open=open_memorylayer_backend,
        make_clock=make_memorylayer_clock,
        follows_test_clock=False,
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*needs): run only on backend kinds that offer these capabilities "
        "(and TEST_CLOCK: follow the test's clock)",
    )


def _requirements(request: pytest.FixtureRequest) -> list[str]:
    needs: list[str] = []
    for marker in request.node.iter_markers("requires"):
        needs.extend(str(need) for need in marker.args)
    return needs


def _lacking(item: pytest.Item, error: BaseException) -> str | None:
    """What the test's kind lacks, if `error` says it reached for that."""
    callspec = getattr(item, "callspec", None)
    kind = callspec.params.get("backend_kind") if callspec is not None else None
    if kind is None:
        return None
    if isinstance(error, NoTestClock):
        return f"{kind} lacks a clock the test controls ({error})"
    if isinstance(error, UnsupportedError) and error.capability:
        backend = getattr(item, "funcargs", {}).get("backend")
        if backend is None or error.capability not in backend.capabilities():
            return f"{kind} lacks {error.capability} ({error})"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if call.excinfo is None or report.skipped:
        return
    reason = _lacking(item, call.excinfo.value)
    if reason is not None:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")


def _skip_unless_offered(
    request: pytest.FixtureRequest, kind_name: str, kind: BackendKind, backend: Backend | None
) -> None:
    """Skips the test, naming what `kind_name` lacks of its `requires` marker."""
    needs = _requirements(request)
    if not needs:
        return
    missing = []
    if TEST_CLOCK in needs and not kind.follows_test_clock:
        missing.append("a clock the test controls")
    if backend is not None:
        offered = backend.capabilities()
        missing += [n for n in needs if n != TEST_CLOCK and n not in offered]
    if missing:
        pytest.skip(f"{kind_name} lacks {', '.join(missing)}")


@pytest.fixture(params=list(BACKEND_KINDS), ids=list(BACKEND_KINDS))
def backend_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock(
    clock: ManualClock, backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Any:
    """The clock the backend under test follows (`.now`, `.advance(**delta)`), starting
    at the same frozen instant as the top-level `clock` fixture."""
    kind = BACKEND_KINDS[backend_kind]
    _skip_unless_offered(request, backend_kind, kind, None)  # before any server starts
    return kind.make_clock(tmp_path, clock.now)


@pytest.fixture
def backend(backend_kind: str, clock: Any, request: pytest.FixtureRequest) -> Iterator[Backend]:
    kind = BACKEND_KINDS[backend_kind]
    with kind.open(request, clock) as opened:
        _skip_unless_offered(request, backend_kind, kind, opened)
        yield opened
