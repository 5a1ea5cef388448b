"""What `memtui serve` needs beyond the Backend, as small protocols: a store that offers
them (`HasKeyStore`, `HasExpiryWatcher`) can be served. The SQL store offers both, and
the two that let event streams wake at once (`ChangeNotifier`, `HasChangeChannel`).

Like the Backend, these raise only `memtui.domain.errors` exceptions: a store that
cannot be reached raises `BackendUnavailableError` (the server answers 503)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from memtui.domain.api_keys import ApiKeyInfo, NewApiKey


class KeyStore(Protocol):
    """API keys, kept only as hashes. Thread-safe. A store that fails raises
    `BackendUnavailableError`."""

    def create(self, name: str = "") -> NewApiKey:
        """A new key; `NewApiKey.key` is the only time the key itself is seen."""
        ...

    def list(self) -> list[ApiKeyInfo]:
        """Oldest first."""
        ...

    def count_active(self) -> int: ...

    def revoke(self, key_id: str) -> ApiKeyInfo:
        """NotFoundError for an unknown id; revoking twice keeps the first time."""
        ...

    def verified_recently(self, key: str) -> str | None:
        """The key's id if it was verified moments ago, without any I/O (the event loop
        calls it); None means: call `verify`."""
        ...

    def verify(self, key: str) -> str | None:
        """The key's id if `key` is a valid, unrevoked key; else None."""
        ...

    def signing_secret(self, purpose: str) -> bytes:
        """A random 32-byte secret for `purpose` (e.g. signing Memanto session tokens),
        made on first use and the same ever after, for every server over this store (so
        a token one server signed is good at another, and after a restart). Never
        logged or listed."""
        ...

    def close(self) -> None: ...


class ExpiryWatcher(Protocol):
    """A background reporter of sessions whose expiry passed (`session.expired` in the
    change feed: expiry is driven by time, not by a write)."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


@runtime_checkable
class HasKeyStore(Protocol):
    def key_store(self) -> KeyStore:
        """The store's API keys (the caller closes it; the backend stays open)."""
        ...


@runtime_checkable
class HasExpiryWatcher(Protocol):
    def expiry_watcher(self) -> ExpiryWatcher:
        """A watcher over this backend, not yet started."""
        ...


@runtime_checkable
class ReportsActiveKeys(Protocol):
    """A KeyStore that can say which keys are still valid, so that revoking a key ends
    the event streams opened with it."""

    def active_among(self, key_ids: set[str]) -> set[str]:
        """Which of these key ids exist and are not revoked (any process's revocation)."""
        ...


@runtime_checkable
class ChangeNotifier(Protocol):
    """A backend that tells this process about its own commits at once."""

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after every commit of this backend object that appended to
        the change feed. It must be quick and must not raise."""
        ...


@dataclass(frozen=True)
class ChangeChannel:
    """Where every process's commits to a shared store are announced: a PostgreSQL
    LISTEN/NOTIFY channel."""

    url: str = field(repr=False)  # a libpq URL, password included: never logged
    name: str  # LISTEN <name>
    own_payload: str  # the payload of this backend object's own notifications


@runtime_checkable
class HasChangeChannel(Protocol):
    def change_channel(self) -> ChangeChannel | None:
        """The channel other processes' commits are announced on; None if there is
        none (SQLite: the server polls the feed for other processes' writes)."""
        ...
