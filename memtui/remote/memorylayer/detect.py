"""Is the server at the other end a MemoryLayer server?

Its `GET /health` answers only `{"status": "healthy"}`, so memtui looks further:
`GET /v1/sessions` (a few hundred bytes) answers `{"sessions": [...], "total_count": N}`
on MemoryLayer; where that is refused, the OpenAPI document it publishes (450 KB) names
MemoryLayer's session routes (`/v1/sessions` and `/v1/sessions/{session_id}/touch`).
"""

from __future__ import annotations

from typing import Any

from memtui.domain.errors import AuthError, InvalidInputError, NotFoundError
from memtui.remote.transport import Transport

SESSION_ROUTES = ("/v1/sessions", "/v1/sessions/{session_id}/touch")


def openapi_says_memorylayer(document: Any) -> bool:
    paths = document.get("paths") if isinstance(document, dict) else None
    return isinstance(paths, dict) and all(route in paths for route in SESSION_ROUTES)


def sessions_say_memorylayer(answer: Any) -> bool:
    return (
        isinstance(answer, dict)
        and isinstance(answer.get("sessions"), list)
        and "total_count" in answer
    )


def is_memorylayer(transport: Transport) -> bool:
    """Asks the server (unreachable raises, as any request would): first the small
    `GET /v1/sessions`, then, if that is refused (a build with auth), the OpenAPI."""
    try:
        answer = transport.request("GET", "/v1/sessions", api=False)
    except NotFoundError:
        return False  # no such route: not MemoryLayer
    except (AuthError, InvalidInputError):
        pass
    else:
        return sessions_say_memorylayer(answer)
    try:
        document = transport.request("GET", "/openapi.json", api=False)
    except (NotFoundError, AuthError, InvalidInputError):
        return False
    return openapi_says_memorylayer(document)
