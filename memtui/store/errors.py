"""Turn SQLAlchemy/driver errors into memtui's user-facing errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from memtui.domain.errors import BackendUnavailableError, ConflictError, MemtuiError

_LOCKED = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL: worth retrying the whole (short) transaction.
_RETRYABLE_PG = ("deadlock detected", "could not serialize access")


def is_retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(marker in text for marker in _LOCKED + _RETRYABLE_PG)


def to_memtui_error(exc: SQLAlchemyError, where: str) -> MemtuiError:
    """A clear message for `exc`; `where` is the store's masked description."""
    text = str(getattr(exc, "orig", exc) or exc).strip()
    lowered = text.lower()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, IntegrityError):
        return ConflictError(f"the store refused a conflicting write: {first_line}")
    if any(marker in lowered for marker in _LOCKED):
        return BackendUnavailableError(
            f"the database {where} stayed locked by another process; try again in a moment"
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return BackendUnavailableError(
            f"the database {where} is corrupt or not a SQLite database ({first_line})"
        )
    if "disk is full" in lowered or "disk full" in lowered or "no space left" in lowered:
        return BackendUnavailableError(f"the disk holding {where} is full")
    if "unable to open database file" in lowered or "readonly database" in lowered:
        return BackendUnavailableError(f"cannot open the database {where} ({first_line})")
    if (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated
        or (
            "connection" in lowered
            and ("refused" in lowered or "failed" in lowered or "timeout" in lowered)
        )
    ):
        return BackendUnavailableError(f"cannot connect to the database {where}: {first_line}")
    if "does not exist" in lowered and "database" in lowered:
        return BackendUnavailableError(f"the database {where} does not exist: {first_line}")
    return BackendUnavailableError(f"database error on {where}: {first_line}")
