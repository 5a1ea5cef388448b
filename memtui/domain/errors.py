"""The error vocabulary every backend speaks.

Each error carries a message fit to show a user as is: no traceback, no secrets.
The server maps them to HTTP statuses; the HTTP client maps statuses back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memtui.domain.models import WorkingMemoryItem


class MemtuiError(Exception):
    """Base class: `str(err)` is the user-facing message."""

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInputError(MemtuiError):
    """A bad value from the user or a client. `field` names what was wrong."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class NotFoundError(MemtuiError):
    http_status = 404


class ConflictError(MemtuiError):
    http_status = 409


class VersionConflictError(ConflictError):
    """A working-memory write carried a stale `expected_version`.

    `current` is the item as it is now in the store (None if it was deleted), so a UI can
    show both versions and let the user choose.
    """

    def __init__(
        self, message: str, *, current: WorkingMemoryItem | None, expected_version: int | None
    ) -> None:
        super().__init__(message)
        self.current = current
        self.expected_version = expected_version


class UnsupportedError(MemtuiError):
    """The backend does not offer this feature (e.g. a plain Memtrace server has no
    working memory). The UI says so politely instead of failing."""

    http_status = 501

    def __init__(self, message: str, *, capability: str | None = None) -> None:
        super().__init__(message)
        self.capability = capability


class BackendUnavailableError(MemtuiError):
    """The store or server cannot be reached right now: unreachable host, timeout,
    5xx, locked or corrupt database, full disk. Usually worth retrying.

    `message` may name the store (its URL, path, driver's words) for the local user;
    `public` says the same without them, for clients of `memtui serve`, whose error
    bodies never name infrastructure (database user, host, database, file paths)."""

    http_status = 503
    GENERIC_PUBLIC = "the store is unavailable right now; try again in a moment"

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public or self.GENERIC_PUBLIC


class AuthError(MemtuiError):
    """Missing or invalid API key (HTTP 401)."""

    http_status = 401
