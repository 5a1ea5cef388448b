"""Open the backend the user asked for: a local store (--db) or a server (--server).

Precedence: command-line flag, then environment (MEMTUI_DB, MEMTUI_SERVER,
MEMTUI_API_KEY), then the config file (`db`, `server`, `api_key`), then the default
SQLite file in the user's data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memtui.config import default_db_url, load_config
from memtui.domain.clock import Clock, utc_now

if TYPE_CHECKING:
    from memtui.backend import Backend


@dataclass(frozen=True, slots=True)
class BackendTarget:
    """Where to connect; resolved before anything heavy is imported."""

    db_url: str | None = None
    server_url: str | None = None
    api_key: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.server_url is not None


def resolve_target(
    db: str | None = None, server: str | None = None, api_key: str | None = None
) -> BackendTarget:
    config = load_config()
    if db:
        return BackendTarget(db_url=db)
    server = server or os.environ.get("MEMTUI_SERVER")
    api_key = api_key or os.environ.get("MEMTUI_API_KEY")
    if server:
        return BackendTarget(server_url=server, api_key=api_key or config.get("api_key"))
    env_db = os.environ.get("MEMTUI_DB")
    if env_db:
        return BackendTarget(db_url=env_db)
    if config.get("server") and not config.get("db"):
        return BackendTarget(server_url=config["server"], api_key=api_key or config.get("api_key"))
    return BackendTarget(db_url=config.get("db") or default_db_url())


def open_backend(target: BackendTarget, *, clock: Clock = utc_now) -> Backend:
    """Raises MemtuiError subclasses with user-facing messages (bad URL, unreachable…)."""
    if target.is_remote:
        from memtui.remote import HttpBackend

        return HttpBackend(target.server_url or "", api_key=target.api_key, clock=clock)
    from memtui.store import SqlStore

    return SqlStore(target.db_url or default_db_url(), clock=clock)
