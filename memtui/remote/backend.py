"""`HttpBackend`: the Backend protocol over HTTP, against `memtui serve` or a plain
Memtrace v1 server.

One Transport (pooled httpx client, retries, connection state) serves either client:
`GET /health` says which. A memtui server lists its `features` and gets `MemtuiClient`;
any other server is taken to be plain Memtrace and gets `MemtraceClient`, which offers
none of memtui's extensions. The server is asked on the first call, not on
construction, so a front end can start while the server is down and recover.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from memtui.backend.base import CAPABILITY_TEXT, BackendBase
from memtui.config import mask_secret
from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import InvalidInputError, NotFoundError
from memtui.remote.events import EventFollower
from memtui.remote.memorylayer.backend import MemoryLayerBackend
from memtui.remote.memtrace_client import MemtraceClient
from memtui.remote.memtui_client import MemtuiClient
from memtui.remote.transport import ConnectionState, Transport

MEMTUI_SERVICE = "memtui"
MEMORYLAYER_SERVICE = "memorylayer"

# Every Backend method the chosen client answers (the rest are HttpBackend's own).
_DELEGATED = (
    "create_agent",
    "ensure_agent",
    "list_agents",
    "get_agent",
    "delete_agent",
    "agent_stats",
    "create_session",
    "list_sessions",
    "get_session",
    "update_session",
    "extend_session",
    "close_session",
    "delete_session",
    "add_memories",
    "import_records",
    "get_memory",
    "list_memories",
    "count_memories",
    "list_memory_types",
    "update_memory",
    "delete_memories",
    "list_working_memory",
    "get_working_memory",
    "set_working_memory",
    "rename_working_memory",
    "delete_working_memory",
    "commit_working_memory",
    "create_snapshot",
    "list_snapshots",
    "get_snapshot",
    "latest_snapshot",
    "briefing",
    "server_context",
    "build_context",
    "explain_context",
    "history",
    "list_trash",
    "restore_from_trash",
    "purge_trash",
    "latest_change_id",
    "changes_since",
)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What GET /health told us."""

    service: str
    version: str | None
    features: frozenset[str]

    @property
    def is_memtui(self) -> bool:
        return self.service == MEMTUI_SERVICE

    @property
    def is_memorylayer(self) -> bool:
        return self.service == MEMORYLAYER_SERVICE


def normalize_base_url(url: str) -> str:
    """`127.0.0.1:9100`, `http://host:9100/` and `http://host:9100/api/v1` all become
    `http://host:9100`."""
    text = url.strip()
    if not text:
        raise InvalidInputError("no server URL given (--server or MEMTUI_SERVER)", field="server")
    if "://" not in text:
        text = "http://" + text
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise InvalidInputError(
            f"invalid server URL {url!r}: {exc}", field="server", value=url
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInputError(
            f"invalid server URL {url!r}: use http://HOST:PORT or https://HOST",
            field="server",
            value=url,
        )
    path = parsed.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return str(parsed.copy_with(path=path or "/", query=None, fragment=None)).rstrip("/")


class HttpBackend(BackendBase):
    """The Backend protocol over HTTP. Thread-safe; one pooled httpx client.

    `connection_state` (read-only) tells a status bar whether the server answered the
    last request: status connected / reconnecting / disconnected / unknown, plus the
    last error message (user-facing, key never included).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        clock: Clock = utc_now,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or None
        self.timeout = timeout
        self._transport = Transport(self.base_url, api_key=self._api_key, timeout=timeout)
        self._lock = threading.Lock()
        self._info: ServerInfo | None = None
        self._client: BackendBase | None = None

    def __repr__(self) -> str:
        return f"HttpBackend({self.describe()!r})"

    # --- about the backend ---------------------------------------------------------------

    def describe(self) -> str:
        if self._info is not None and self._info.is_memorylayer:
            return self.client.describe()
        if self._api_key:
            return f"{self.base_url} (key {mask_secret(self._api_key)})"
        return self.base_url

    @property
    def server_info(self) -> ServerInfo:
        """GET /health, asked once and remembered (asked again while it fails)."""
        info = self._info
        if info is not None:
            return info
        try:
            data = self._transport.request("GET", "/health", api=False)
        except NotFoundError:
            data = self._transport.request("GET", "/health", api=True)
        if not isinstance(data, dict):
            data = {}
        service = str(data.get("service") or "memtrace")
        if "service" not in data and data.get("status") == "healthy":
            # MemoryLayer's /health says only that; its routes tell (see memorylayer).
            from memtui.remote.memorylayer.detect import is_memorylayer

            if is_memorylayer(self._transport):
                service = MEMORYLAYER_SERVICE
        features = data.get("features") if service == MEMTUI_SERVICE else None
        info = ServerInfo(
            service=service,
            version=data.get("version") if isinstance(data.get("version"), str) else None,
            features=frozenset(str(f) for f in features or ()),
        )
        with self._lock:
            self._info = info
        return info

    @property
    def is_plain_memtrace(self) -> bool:
        return not self.server_info.is_memtui

    def capabilities(self) -> frozenset[str]:
        return self.client.capabilities()

    @property
    def connection_state(self) -> ConnectionState:
        client = self._client
        if isinstance(client, MemoryLayerBackend):
            return client.connection_state  # it talks over its own (Bearer) transport
        return self._transport.state

    def _unsupported_message(self, capability: str) -> str:
        what = CAPABILITY_TEXT.get(capability, capability)
        if self.server_info.is_memorylayer:
            return self.client._unsupported_message(capability)
        if self.server_info.is_memtui:
            return f"the memtui server at {self.base_url} does not offer {what}"
        return f"this server is a plain Memtrace server: it has no {what}"

    @property
    def client(self) -> BackendBase:
        """The client for the kind of server GET /health found (asked on first use)."""
        client = self._client
        if client is not None:
            return client
        info = self.server_info
        if info.is_memorylayer:
            with self._lock:
                if self._client is None:
                    self._client = MemoryLayerBackend(
                        self.base_url,
                        api_key=self._api_key,
                        clock=self._clock,
                        timeout=self.timeout,
                    )
                    if self._closed:
                        self._client.close()
                return self._client
        kind = MemtuiClient if info.is_memtui else MemtraceClient
        with self._lock:
            if self._client is None:
                self._client = kind(
                    self._transport,
                    base_url=self.base_url,
                    description=self.describe(),
                    features=info.features,
                    clock=self._clock,
                )
                if self._closed:
                    self._client.close()
            return self._client

    @property
    def event_follower(self) -> EventFollower | None:
        """The background reader of the event stream, once started (for tests)."""
        return getattr(self._client, "event_follower", None)

    def _release(self) -> None:
        client = self._client
        if client is not None:
            client.close()
        self._transport.close()


def _delegate(name: str) -> Any:
    def method(self: HttpBackend, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.client, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(BackendBase, name).__doc__
    return method


for _name in _DELEGATED:
    setattr(HttpBackend, _name, _delegate(_name))
abc.update_abstractmethods(HttpBackend)
