"""Read the newest sessions of a SQLite store with the stdlib `sqlite3` module only.

The TUI's first screen needs one screenful of sessions. Opening the real store imports
SQLModel and SQLAlchemy (~300-400 ms) and may migrate the schema; this module reads the
same rows in a few milliseconds, read-only (`mode=ro`: it never creates, migrates or
writes anything), so the first frame shows data while the full store opens in a worker.

It mirrors `SqlStore.list_sessions(limit=...)` for the schema versions in
`SESSION_SCHEMA_VERSIONS` (tests compare both on a file the real store made). Anything
unexpected (another URL form, a missing or locked file, an unknown schema version, a
malformed row) returns None, and the caller takes the normal path.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from memtui.domain.models import Session
from memtui.domain.safe_json import loads_stored

# Schema versions whose `session` table has the columns read below. A new version must
# be added here on purpose (tests/tui/test_fastpath.py checks the current one is).
SESSION_SCHEMA_VERSIONS = (1, 2, 3, 4, 5, 6)  # 3 to 6 left the session table as it was
SQLITE_SCHEMES = ("sqlite:///", "sqlite+pysqlite:///")

_COLUMNS = (
    "id, agent_id, status, created_at, updated_at, expires_at, closed_at, "
    "workspace_id, metadata, org_id"
)


def sqlite_path(url: str) -> Path | None:
    """The file a plain `sqlite:///path` URL names; None for any other URL (memory
    databases, query options, other dialects)."""
    for scheme in SQLITE_SCHEMES:
        if url.startswith(scheme):
            database = url[len(scheme) :]
            break
    else:
        return None
    if not database or "?" in database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def read_recent_sessions(url: str, limit: int) -> list[Session] | None:
    """The `limit` newest sessions (as `list_sessions` orders them), or None whenever
    this cannot be done safely and quickly."""
    path = sqlite_path(url)
    if path is None or limit < 1:
        return None
    try:
        if not path.is_file():
            return None  # never create it: opening the store will, with its schema
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=0.2, check_same_thread=False)
    except (OSError, sqlite3.Error):
        return None
    try:
        version = connection.execute(
            "SELECT value FROM schema_meta WHERE key = 'schema_version'"
        ).fetchone()
        if version is None or int(version[0]) not in SESSION_SCHEMA_VERSIONS:
            return None
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM session ORDER BY created_at DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_session(row) for row in rows]
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        connection.close()


def _time(value: Any) -> datetime | None:
    """SQLAlchemy keeps SQLite datetimes as naive UTC text (`2025-01-02 03:04:05.000006`)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"unexpected time value {value!r}")
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _session(row: tuple[Any, ...]) -> Session:
    (
        session_id,
        agent_id,
        status,
        created_at,
        updated_at,
        expires_at,
        closed_at,
        workspace_id,
        metadata,
        org_id,
    ) = row
    meta = loads_stored(metadata) if metadata is not None else {}
    if not isinstance(meta, dict):
        raise TypeError("session metadata is not an object")
    created = _time(created_at)
    updated = _time(updated_at)
    if created is None or updated is None:
        raise TypeError("session without created_at/updated_at")
    return Session(
        id=session_id,
        agent_id=agent_id,
        status=status,
        created_at=created,
        updated_at=updated,
        expires_at=_time(expires_at),
        closed_at=_time(closed_at),
        workspace_id=workspace_id,
        metadata=meta,
        org_id=org_id,
    )
