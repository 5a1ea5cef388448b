"""The one backend interface. The TUI, the server, the CLI and the MCP server talk only
to this.

- `Backend` (protocol.py): the methods every backend answers, documented.
- `BackendBase` (base.py): what backends share. An adapter subclasses it, implements the
  core methods and the optional capabilities its system has, and lists those in
  `capabilities()`; the rest raise `UnsupportedError` naming the `Capability`.
- `KeyStore`, `ExpiryWatcher` (services.py): what `memtui serve` needs beyond the
  Backend; a store offers them through `HasKeyStore.key_store()` and
  `HasExpiryWatcher.expiry_watcher()`; event streams wake at once on a
  `ChangeNotifier` and, across processes, on a `HasChangeChannel`'s `ChangeChannel`.

Implementations: `memtui.store.SqlStore` (SQLite or PostgreSQL) and
`memtui.remote.HttpBackend` (a memtui or plain Memtrace server).
"""

from memtui.backend.base import CAPABILITY_TEXT, BackendBase
from memtui.backend.protocol import DEFAULT, Backend
from memtui.backend.services import (
    ChangeChannel,
    ChangeNotifier,
    ExpiryWatcher,
    HasChangeChannel,
    HasExpiryWatcher,
    HasKeyStore,
    KeyStore,
    ReportsActiveKeys,
)
from memtui.domain.errors import UnsupportedError
from memtui.domain.models import ALL_CAPABILITIES, Capability

__all__ = [
    "ALL_CAPABILITIES",
    "CAPABILITY_TEXT",
    "DEFAULT",
    "Backend",
    "BackendBase",
    "Capability",
    "ChangeChannel",
    "ChangeNotifier",
    "ExpiryWatcher",
    "HasChangeChannel",
    "HasExpiryWatcher",
    "HasKeyStore",
    "KeyStore",
    "ReportsActiveKeys",
    "UnsupportedError",
]
