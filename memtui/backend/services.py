"""What `memtui serve` needs beyond the Backend, as small protocols: a store that offers
them (`HasKeyStore`, `HasExpiryWatcher`) can be served. The SQL store offers both."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from memtui.domain.api_keys import ApiKeyInfo, NewApiKey


class KeyStore(Protocol):
    """API keys, kept only as hashes. Thread-safe."""

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
