"""The SQLModel store: the Backend protocol on SQLite or PostgreSQL.

`SqlStore(url, clock=...)` accepts any SQLAlchemy URL (default: a SQLite file in the
user's data directory, created on first use). `SqlStore.engine` is public so the server
can manage its API keys (table `api_key`, see memtui.store.tables.ApiKeyTable).
"""

from memtui.store.sql import SqlStore
from memtui.store.tables import SCHEMA_VERSION, ApiKeyTable

__all__ = ["SCHEMA_VERSION", "ApiKeyTable", "SqlStore"]
