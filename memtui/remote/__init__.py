"""The HTTP backend: memtui's Backend protocol over a memtui or plain Memtrace server.

`HttpBackend(base_url, api_key=..., clock=..., timeout=10.0)`; its read-only
`connection_state` (status connected / reconnecting / disconnected / unknown, plus the
last error message) is meant for a status bar.
"""

from memtui.remote.backend import HttpBackend, ServerInfo, normalize_base_url
from memtui.remote.transport import ConnectionState, ConnectionStatus

__all__ = [
    "ConnectionState",
    "ConnectionStatus",
    "HttpBackend",
    "ServerInfo",
    "normalize_base_url",
]
