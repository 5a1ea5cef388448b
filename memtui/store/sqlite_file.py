"""A SQLite store's file before memtui uses it: can it be written, and is it intact?

Read-only files. A store memtui may not write (a read-only filesystem, a file or
directory without write permission) is opened read-only instead of failing: every
read works, every write is refused with one clear line. SQLite's `mode=ro` reads a WAL
database when its -shm file exists or can be created; on a read-only filesystem after
a clean close (no -wal, no -shm) it cannot, and the file is opened `immutable=1`
(nothing can change it there). A read-only file whose -wal still holds commits and
has no -shm cannot be read faithfully (immutable would ignore the -wal): refused.

Damage. `PRAGMA quick_check` reads every page: complete, and affordable on files up
to QUICK_CHECK_MAX_BYTES (measured ~0.4 s for a 121 MB store with a warm page cache;
the issue measured 4-5 s for 222 MB cold). Larger files get what stays cheap at any
size: a page count the file can hold, and quick_check
of every table except the three that grow with the store (memory, memory_tag,
change). NOT covered on a large file: damaged pages of those three tables and their
indexes. A read that reaches one fails with "the store is damaged", and SQLite refuses
a write into a b-tree page it finds malformed, but a write elsewhere in such a file
is not prevented.
"""

from __future__ import annotations

import os
import sqlite3
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

QUICK_CHECK_MAX_BYTES = 32 * 1024 * 1024
# The tables that grow with the store, skipped by the check of a large file.
LARGE_TABLES = frozenset({"memory", "memory_tag", "change"})


class OpenMode(Enum):
    READ_WRITE = "rw"
    READ_ONLY = "ro"  # mode=ro: sees other writers' commits
    IMMUTABLE = "immutable"  # mode=ro&immutable=1: no locks, no -shm (read-only fs)


def is_writable(path: Path) -> bool:
    """Whether memtui may write the store: the file, and its directory (SQLite creates
    the -wal and -shm files there). os.access answers EROFS on a read-only filesystem,
    for root too."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_mode(path: Path) -> OpenMode:
    """How to open the existing file `path`."""
    if not path.exists() or is_writable(path):
        return OpenMode.READ_WRITE
    try:
        probe = sqlite3.connect(uri(path, OpenMode.READ_ONLY), uri=True, timeout=0)
        try:
            probe.execute("PRAGMA schema_version").fetchone()  # opens the file (and -shm)
            return OpenMode.READ_ONLY
        finally:
            probe.close()
    except sqlite3.Error as error:
        if "locked" in str(error) or "busy" in str(error):
            return OpenMode.READ_ONLY  # readable, just not this instant
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise ReadOnlyWalError(
            f"it is read-only and its {wal.name} file holds changes that were never "
            "merged into it; memtui cannot read them without write access (open it once "
            "where it is writable)"
        )
    return OpenMode.IMMUTABLE


class ReadOnlyWalError(Exception):
    """A read-only store whose -wal cannot be read (see open_mode)."""


def uri(path: Path, mode: OpenMode) -> str:
    options = {
        OpenMode.READ_WRITE: "",
        OpenMode.READ_ONLY: "?mode=ro",
        OpenMode.IMMUTABLE: "?mode=ro&immutable=1",
    }[mode]
    return f"file:{quote(str(path.absolute()))}{options}"


def truncation(dbapi_connection: Any, path: Path) -> str | None:
    """A file shorter than the pages SQLite counts in it. Read through SQLite and
    os.stat only: opening and closing the database file from Python would drop the
    POSIX locks this process's SQLite connections hold on it (the "posix advisory
    locks are per process" trap), and others could then write under them. Skipped
    while a -wal holds pages the file does not have yet."""
    try:
        size = path.stat().st_size
        wal = Path(f"{path}-wal")
        if size == 0 or (wal.exists() and wal.stat().st_size > 0):
            return None
    except OSError:
        return None
    page_size = dbapi_connection.execute("PRAGMA page_size").fetchone()[0]
    page_count = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
    if page_count * page_size > size:
        return (
            f"it is truncated: SQLite counts {page_count} pages of {page_size} bytes in it, "
            f"but the file holds {size} bytes"
        )
    return None


def check_damage(dbapi_connection: Any, path: Path) -> str | None:
    """What SQLite's checks find wrong with the open store `path`, or None. Runs on the
    store's own (DB-API) connection, so a locked or read-only file is handled the
    same way as every other read."""
    cursor = dbapi_connection.cursor()
    try:
        problem = truncation(dbapi_connection, path)
        if problem is not None:
            return problem
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if size <= QUICK_CHECK_MAX_BYTES:
            found = [row[0] for row in cursor.execute("PRAGMA quick_check(3)").fetchall()]
        else:
            tables = [
                row[0]
                for row in cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                ).fetchall()
            ]
            found = []
            for table in tables:
                if table in LARGE_TABLES:
                    continue
                result = cursor.execute(f'PRAGMA quick_check("{table}")').fetchall()
                found += [row[0] for row in result if row[0] != "ok"]
            found = found or ["ok"]
    except sqlite3.DatabaseError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise  # not damage: the caller's lock handling says so
        return f"SQLite cannot read it ({error})"
    finally:
        cursor.close()
    if found == ["ok"]:
        return None
    lines = [
        line.strip()
        for row in found
        for line in str(row).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    more = "; and more" if len(lines) > 2 else ""
    return f"SQLite's quick_check found: {'; '.join(lines[:2])}{more}"
