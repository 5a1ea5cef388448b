"""Sessions for the first frame, before the store is open.

- A SQLite store is read directly with the stdlib `sqlite3` module
  (`memtui.store.fastpath`, read-only): fresh rows in a few milliseconds.
- Otherwise (a server, or a file the fast path cannot read) the session list as it
  was last seen, kept in the user cache directory (harlequin caches its catalog the
  same way).

Either paints at once while the store loads in a worker; live data then replaces it.
Only stdlib here: it runs on the first-paint path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from memtui.domain.models import Session

CACHE_VERSION = 1


def read_store_sessions(db_url: str, limit: int) -> list[Session] | None:
    """The newest sessions of a SQLite store without opening the store (None: not a
    SQLite file this can read; open the store instead). `memtui.store` imports its
    SQLModel parts lazily, so this loads only stdlib sqlite3."""
    try:
        from memtui.store.fastpath import read_recent_sessions

        return read_recent_sessions(db_url, limit)
    except Exception:  # the fast path is an optimisation: never a reason to fail
        return None


def cache_file(target_key: str) -> Path:
    from memtui.config import cache_dir

    digest = hashlib.sha256(target_key.encode("utf-8")).hexdigest()[:16]
    return cache_dir() / f"sessions-{digest}.json"


def read_cached_sessions(target_key: str, limit: int | None = None) -> list[Session] | None:
    from memtui.domain.models import Session

    try:
        data = json.loads(cache_file(target_key).read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return None
        return [Session.from_json(item) for item in data["sessions"][:limit]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cached_sessions(target_key: str, sessions: list[Session]) -> None:
    """Best effort: a cache that cannot be written is simply not there next time."""
    from memtui.config import write_private_text

    payload = {"version": CACHE_VERSION, "sessions": [s.to_json() for s in sessions]}
    with contextlib.suppress(OSError):
        write_private_text(cache_file(target_key), json.dumps(payload, separators=(",", ":")))


def cached_sessions_time(target_key: str) -> datetime | None:
    """When the cached list was written (its file's mtime, UTC), if there is one."""
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(cache_file(target_key).stat().st_mtime, tz=UTC)
    except OSError:
        return None
