"""Turn SQLAlchemy/driver errors into memtui's user-facing errors."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from memtui.domain.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MemtuiError,
)

_LOCKED = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL: worth retrying the whole (short) transaction.
_RETRYABLE_PG = ("deadlock detected", "could not serialize access")
_NUL_IN_TEXT = "cannot contain nul"  # psycopg: "PostgreSQL text fields cannot contain NUL"


def is_retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(marker in text for marker in _LOCKED + _RETRYABLE_PG)


def to_memtui_error(exc: SQLAlchemyError | sqlite3.Error, where: str) -> MemtuiError:
    """A clear message for `exc` (SQLAlchemy's, or sqlite3's own from a PRAGMA run on
    connect); `where` is the store's masked description. The
    BackendUnavailableError's `public` text leaves out `where` and the driver's words."""
    text = str(getattr(exc, "orig", exc) or exc).strip()
    lowered = text.lower()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, IntegrityError):
        return ConflictError(f"the store refused a conflicting write: {first_line}")
    if _NUL_IN_TEXT in lowered:
        # PostgreSQL cannot hold NUL in text; writes are checked before (naming the
        # field), so this is a lookup by a value no stored row can have.
        return InvalidInputError(
            "a text value contains a NUL character (\\x00), which the store cannot hold"
        )
    if any(marker in lowered for marker in _LOCKED):
        return BackendUnavailableError(
            f"the database {where} stayed locked by another process; try again in a moment",
            public="the store is busy (locked by another writer); try again in a moment",
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return BackendUnavailableError(
            f"the database {where} is corrupt or not a SQLite database ({first_line})",
            public="the store is damaged (its database file is corrupt)",
        )
    if "disk is full" in lowered or "disk full" in lowered or "no space left" in lowered:
        return BackendUnavailableError(
            f"the disk holding {where} is full", public="the store's disk is full"
        )
    if "readonly database" in lowered or "read-only" in lowered:
        return BackendUnavailableError(
            f"the database {where} is read-only ({first_line})",
            public="the store is read-only; it cannot take writes",
        )
    if "unable to open database file" in lowered:
        return BackendUnavailableError(f"cannot open the database {where} ({first_line})")
    if (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated
        or (
            "connection" in lowered
            and ("refused" in lowered or "failed" in lowered or "timeout" in lowered)
        )
        or "terminating connection" in lowered
        or "server closed the connection" in lowered
    ):
        return BackendUnavailableError(
            f"cannot connect to the database {where}: {first_line}",
            public="the store's database cannot be reached; try again in a moment",
        )
    if "does not exist" in lowered and "database" in lowered:
        return BackendUnavailableError(f"the database {where} does not exist: {first_line}")
    return BackendUnavailableError(f"database error on {where}: {first_line}")
