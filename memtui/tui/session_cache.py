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

import hashlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memtui.domain.models import Session

CACHE_VERSION = 1


def read_store_sessions(db_url: str, limit: int) -> list[Session] | None:
    """The newest sessions of a SQLite store without importing the store (None: not
    a SQLite file this can read; open the store instead)."""
    try:
        fastpath = _fastpath_module()
        return fastpath.read_recent_sessions(db_url, limit)  # type: ignore[no-any-return]
    except Exception:  # the fast path is an optimisation: never a reason to fail
        return None


def _fastpath_module() -> ModuleType:
    """`memtui.store.fastpath`, loaded from its file when `memtui.store` is not imported
    yet: the package's `__init__` imports SqlStore (SQLModel, ~400 ms), the very thing
    the first frame must not wait for. The module is registered under its own name,
    so a later `import memtui.store.fastpath` finds this one."""
    name = "memtui.store.fastpath"
    module = sys.modules.get(name)
    if module is not None:
        return module
    if "memtui.store" in sys.modules:
        import importlib

        return importlib.import_module(name)
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "store" / "fastpath.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


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
