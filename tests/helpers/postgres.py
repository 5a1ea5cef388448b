"""Throwaway PostgreSQL databases for tests and benches.

The server at 127.0.0.1:5432 (user postgres, trust auth, database `test`) is the admin
connection; each caller gets its own fresh database `<prefix>_<random>` and drops it
afterwards, so runs never see each other's rows.

Without a reachable server the tests skip with the reason, except when
MEMTUI_REQUIRE_POSTGRES=1 (CI sets it): then they fail, so CI cannot go green silently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN_URL = os.environ.get(
    "MEMTUI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_ENV = "MEMTUI_REQUIRE_POSTGRES"
# Generous: on a loaded machine (parallel test processes, CREATE DATABASE in flight)
# a local connection can take seconds, and a slow answer is not an unreachable server.
CONNECT_TIMEOUT_SECONDS = 20


def libpq_dsn(sqlalchemy_url: str) -> str:
    """psycopg speaks plain libpq URLs: drop SQLAlchemy's `+driver` part."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else sqlalchemy_url


def _with_database(sqlalchemy_url: str, database: str) -> str:
    base, _, _ = sqlalchemy_url.rpartition("/")
    return f"{base}/{database}"


def postgres_unreachable_reason(admin_url: str = ADMIN_URL) -> str | None:
    """None when the server answers, otherwise why not (for the skip message)."""
    import psycopg

    try:
        with psycopg.connect(libpq_dsn(admin_url), connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        return f"PostgreSQL at {admin_url.split('@')[-1]} is unreachable: {first_line}"
    return None


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def create_database(prefix: str = "memtui_test", admin_url: str = ADMIN_URL) -> str:
    """Create an empty database and return its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(5)}"
    with psycopg.connect(
        libpq_dsn(admin_url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(admin_url, name)


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    """Drop a database made by create_database, closing whatever still connects to it."""
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(
        libpq_dsn(admin_url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str = "memtui_test") -> Iterator[str]:
    url = create_database(prefix)
    try:
        yield url
    finally:
        drop_database(url)


def skip_or_fail_without_postgres() -> None:
    """Call from a fixture: skips (or fails in CI) when the server is unreachable."""
    import pytest

    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if postgres_required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires it)")
    pytest.skip(reason)
