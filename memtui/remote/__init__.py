"""The HTTP backend: memtui's Backend protocol over a memtui or plain Memtrace server.

`HttpBackend(base_url, api_key=..., clock=..., timeout=10.0)` asks the server's
GET /health on first use and hands every call to `MemtuiClient` (memtui serve) or
`MemtraceClient` (plain Memtrace v1), both over one `Transport`. Its read-only
`connection_state` (status connected / reconnecting / disconnected / unknown, plus the
last error message) is meant for a status bar.
"""

from memtui.remote.backend import HttpBackend, ServerInfo, normalize_base_url
from memtui.remote.memtrace_client import MemtraceClient
from memtui.remote.memtui_client import MemtuiClient
from memtui.remote.transport import ConnectionState, ConnectionStatus

__all__ = [
    "ConnectionState",
    "ConnectionStatus",
    "HttpBackend",
    "MemtraceClient",
    "MemtuiClient",
    "ServerInfo",
    "normalize_base_url",
]
