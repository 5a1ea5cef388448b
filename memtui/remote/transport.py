"""One pooled httpx client with bounded retries, fault mapping and a connection state.

Every HTTP failure leaves here as a `MemtuiError` subclass whose message a user can read
as is (and which never contains the API key):

- unreachable host → BackendUnavailableError "cannot reach the memtui server at URL: …"
- timeout          → BackendUnavailableError "the memtui server at URL timed out after 10 s"
- 401              → AuthError naming --api-key / MEMTUI_API_KEY
- 404 / 400 / 409  → NotFoundError / InvalidInputError / ConflictError with the server's text
- 5xx              → BackendUnavailableError "server error 503: …"
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from memtui import __version__
from memtui.domain.clock import utc_now
from memtui.domain.errors import (
    AuthError,
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MemtuiError,
    NotFoundError,
    UnsupportedError,
    VersionConflictError,
)
from memtui.domain.models import WorkingMemoryItem

API_PREFIX = "/api/v1"

# Bounded so a TUI worker gets an answer within about two seconds when the server is
# down: three attempts, short pauses between them.
RETRY_PAUSES: tuple[float, ...] = (0.25, 0.75)
RETRY_DEADLINE = 2.0
RETRYABLE_STATUSES = frozenset({502, 503, 504})


class ConnectionStatus:
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
    UNKNOWN = "unknown"  # nothing asked of the server yet


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What the client last knew about the server, for a status bar.

    `status` is one of connected / reconnecting / disconnected / unknown; `message` is
    the last error (user-facing, no secrets) or "" when connected; `since` is when the
    status last changed.
    """

    status: str
    message: str
    since: datetime

    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def describe_connect_error(exc: Exception) -> str:
    """A short reason for a failed connection: `connection refused`, `unknown host`…"""
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    if "temporary failure in name resolution" in text or "getaddrinfo" in text:
        return "unknown host"
    if "unreachable" in text:
        return "network unreachable"
    if "reset" in text:
        return "connection reset"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


def _detail_text(detail: Any) -> str:
    """FastAPI's `detail`: a string, or (422) a list of {loc, msg}: `body.key: Field
    required`."""
    if isinstance(detail, list):
        parts = []
        for entry in detail:
            if isinstance(entry, dict):
                loc = ".".join(str(p) for p in entry.get("loc") or ())
                parts.append(f"{loc}: {entry.get('msg')}" if loc else str(entry.get("msg")))
            else:
                parts.append(str(entry))
        return "; ".join(parts)
    return "" if detail is None else str(detail)


class Transport:
    """Thread-safe: httpx.Client pools connections and may be shared by worker threads."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout: float,
        server_label: str = "memtui server",
        bearer: bool = False,
    ) -> None:
        """`bearer`: send the key as `Authorization: Bearer KEY` (MemoryLayer) instead
        of memtui's and Memtrace's `x-api-key`."""
        self.base_url = base_url
        self.timeout = timeout
        self.server_label = server_label
        headers = {"user-agent": f"memtui/{__version__}", "accept": "application/json"}
        if api_key and bearer:
            headers["authorization"] = f"Bearer {api_key}"
        elif api_key:
            headers["x-api-key"] = api_key
        self._headers = headers
        self.client = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._state_lock = threading.Lock()
        self._state = ConnectionState(ConnectionStatus.UNKNOWN, "", utc_now())

    # --- connection state ----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    def set_state(self, status: str, message: str = "") -> None:
        with self._state_lock:
            if self._state.status != status or self._state.message != message:
                since = self._state.since if self._state.status == status else utc_now()
                self._state = ConnectionState(status, message, since)

    def auth_headers(self) -> dict[str, str]:
        """The headers a second client (the event follower) must send."""
        return dict(self._headers)

    # --- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        api: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a request and return the decoded JSON body (None for 204). `headers` are
        sent besides the client's own (MemoryLayer scopes a request by X-Workspace-ID).

        `idempotent` defaults to True for GET/PUT/DELETE; a retry after a timeout or a
        gateway error could apply a non-idempotent POST twice, so those are retried only
        when the connection was never made.
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = (API_PREFIX + path) if api else path
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self.client.request(
                    method, url, params=clean_params, json=json, headers=headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: safe to retry any method.
                error = self._unreachable(exc)
                if self._may_retry(attempt, started):
                    attempt = self._pause(attempt, error)
                    continue
                self.set_state(ConnectionStatus.DISCONNECTED, str(error))
                raise error from None
            except httpx.TimeoutException:
                error = BackendUnavailableError(
                    f"the {self.server_label} at {self.base_url} timed out after "
                    f"{_format_seconds(self.timeout)}"
                )
                self.set_state(ConnectionStatus.DISCONNECTED, str(error))
                raise error from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # The connection dropped mid-request (server killed or restarted).
                error = self._unreachable(exc)
                if idempotent and self._may_retry(attempt, started):
                    attempt = self._pause(attempt, error)
                    continue
                self.set_state(ConnectionStatus.DISCONNECTED, str(error))
                raise error from None
            except httpx.HTTPError as exc:
                error = BackendUnavailableError(
                    f"request to the {self.server_label} at {self.base_url} failed: "
                    f"{describe_connect_error(exc)}"
                )
                self.set_state(ConnectionStatus.DISCONNECTED, str(error))
                raise error from None
            if (
                response.status_code in RETRYABLE_STATUSES
                and idempotent
                and self._may_retry(attempt, started)
            ):
                attempt = self._pause(attempt, self.error_for(response))
                continue
            return self._handle(response)

    def _may_retry(self, attempt: int, started: float) -> bool:
        return attempt < len(RETRY_PAUSES) and time.monotonic() - started < RETRY_DEADLINE

    def _pause(self, attempt: int, error: MemtuiError) -> int:
        self.set_state(ConnectionStatus.RECONNECTING, str(error))
        time.sleep(RETRY_PAUSES[attempt])
        return attempt + 1

    def _unreachable(self, exc: Exception) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"cannot reach the {self.server_label} at {self.base_url}: "
            f"{describe_connect_error(exc)}"
        )

    def _handle(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 500:
            error = self.error_for(response)
            self.set_state(ConnectionStatus.DISCONNECTED, str(error))
            raise error
        # Any answer below 500 means the server is there.
        self.set_state(ConnectionStatus.CONNECTED)
        if status >= 400:
            raise self.error_for(response)
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BackendUnavailableError(
                f"the {self.server_label} at {self.base_url} sent a reply that is not JSON "
                f"(HTTP {status})"
            ) from None

    def error_for(self, response: httpx.Response) -> MemtuiError:
        """Map an error response to the matching MemtuiError."""
        status = response.status_code
        body: dict[str, Any] = {}
        try:
            decoded = response.json()
            if isinstance(decoded, dict):
                body = decoded
        except ValueError:
            pass
        text = body.get("error") or _detail_text(body.get("detail")) or response.reason_phrase
        if not isinstance(text, str):
            text = str(text)
        if status == 401:
            if "missing" in text.lower():
                return AuthError(
                    f"the server requires an API key ({text}) — pass --api-key or set "
                    "MEMTUI_API_KEY"
                )
            return AuthError(
                f"the server rejected the API key ({text or 'unauthorized'}) — check "
                "--api-key or MEMTUI_API_KEY"
            )
        if status == 403:
            return AuthError(f"the server refused access ({text}) — check --api-key")
        if status == 404:
            return NotFoundError(text or f"not found: {response.request.url.path}")
        if status == 409:
            if "expected_version" in body or "current" in body:
                current = body.get("current")
                return VersionConflictError(
                    text or "the working-memory item changed meanwhile",
                    current=WorkingMemoryItem.from_json({"session_id": "", **current})
                    if isinstance(current, dict)
                    else None,
                    expected_version=body.get("expected_version"),
                )
            return ConflictError(text or "conflict")
        if status == 501:
            return UnsupportedError(text or "the server does not support this")
        if 400 <= status < 500:
            return InvalidInputError(
                text or f"the server refused the request (HTTP {status})",
                field=body.get("field"),
                value=body.get("value"),
            )
        return BackendUnavailableError(f"server error {status}: {text or 'no details'}")

    def close(self) -> None:
        self.client.close()
