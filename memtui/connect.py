"""Open the backend the user asked for: a local store (--db) or a server (--server).

Precedence: command-line flag, then environment (MEMTUI_DB, MEMTUI_SERVER,
MEMTUI_API_KEY, MEMTUI_BACKEND), then the config file (`db`, `server`, `api_key`,
`backend`), then the default SQLite file in the user's data directory.

A server is asked what it is (`auto`: memtui, plain Memtrace or MemoryLayer, see
HttpBackend); `backend="memorylayer"` says it is a MemoryLayer server without asking.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memtui.config import default_db_url, load_config
from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from memtui.backend import Backend


AUTO = "auto"
MEMORYLAYER = "memorylayer"
BACKEND_KINDS = (AUTO, MEMORYLAYER)


@dataclass(frozen=True, slots=True)
class BackendTarget:
    """Where to connect; resolved before anything heavy is imported. `backend` is what
    the server is (auto: ask it)."""

    db_url: str | None = None
    server_url: str | None = None
    api_key: str | None = None
    backend: str = AUTO

    @property
    def is_remote(self) -> bool:
        return self.server_url is not None


def resolve_target(
    db: str | None = None,
    server: str | None = None,
    api_key: str | None = None,
    backend: str | None = None,
) -> BackendTarget:
    """InvalidInputError for a `backend` kind memtui does not know."""
    config = load_config()
    if db:
        return BackendTarget(db_url=db)
    server = server or os.environ.get("MEMTUI_SERVER")
    api_key = api_key or os.environ.get("MEMTUI_API_KEY")
    kind = backend or os.environ.get("MEMTUI_BACKEND") or config.get("backend") or AUTO
    if kind not in BACKEND_KINDS:
        raise InvalidInputError(
            f"unknown backend {kind!r} (use {' or '.join(BACKEND_KINDS)})",
            field="backend",
            value=kind,
        )
    if server:
        return BackendTarget(
            server_url=server, api_key=api_key or config.get("api_key"), backend=kind
        )
    env_db = os.environ.get("MEMTUI_DB")
    if env_db:
        return BackendTarget(db_url=env_db)
    if config.get("server") and not config.get("db"):
        return BackendTarget(
            server_url=config["server"], api_key=api_key or config.get("api_key"), backend=kind
        )
    return BackendTarget(db_url=config.get("db") or default_db_url())


def open_backend(target: BackendTarget, *, clock: Clock = utc_now) -> Backend:
    """Raises MemtuiError subclasses with user-facing messages (bad URL, unreachable…)."""
    if target.is_remote and target.backend == MEMORYLAYER:
        from memtui.remote.memorylayer import MemoryLayerBackend

        return MemoryLayerBackend(target.server_url or "", api_key=target.api_key, clock=clock)
    if target.is_remote:
        from memtui.remote import HttpBackend

        return HttpBackend(target.server_url or "", api_key=target.api_key, clock=clock)
    from memtui.store import SqlStore

    return SqlStore(target.db_url or default_db_url(), clock=clock)
