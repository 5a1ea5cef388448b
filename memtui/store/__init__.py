"""The SQLModel store: the Backend protocol on SQLite or PostgreSQL.

`SqlStore(url, clock=...)` accepts any SQLAlchemy URL (default: a SQLite file in the
user's data directory, created on first use). `SqlStore.key_store()` gives `memtui serve`
its API keys (table `api_key`, see memtui.store.api_keys); `SqlStore.engine` stays
public for tools and tests that read the database itself.

The exports are imported on first use (PEP 562), so `import memtui.store.fastpath`
(stdlib sqlite3, on the TUI's first-paint path) does not pull in SQLModel (~400 ms).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memtui.store.sql import SqlStore
    from memtui.store.tables import SCHEMA_VERSION, ApiKeyTable

__all__ = ["SCHEMA_VERSION", "ApiKeyTable", "SqlStore"]

# export name -> the submodule that defines it
_LAZY_EXPORTS = {
    "SqlStore": "memtui.store.sql",
    "SCHEMA_VERSION": "memtui.store.tables",
    "ApiKeyTable": "memtui.store.tables",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
