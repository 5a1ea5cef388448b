"""The session list as it was last seen, kept in the user cache directory.

A start paints this at once while the store loads in a worker (harlequin caches its
catalog the same way), then replaces it with live data. Only stdlib here: it runs on
the first-paint path.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memtui.domain.models import Session

CACHE_VERSION = 1


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
    path = cache_file(target_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": CACHE_VERSION, "sessions": [s.to_json() for s in sessions]}
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
