"""Memanto's (seed 001) session rules over memtui's model.

- A session is a 6-hour window; **activating** an agent again ends its previous Memanto
  session (one active session per agent).
- **extend** adds N hours to what is left (1 h left + 6 h = 7 h): that is the Backend's
  `extend_session`, which also starts from now once a session has expired.
- The **session token** is a JWT naming the agent and the session, with `exp`. The
  server signs it (memtui.server.dialects.memanto.tokens); these are its claims and the
  checks on them. A token is good while its session is: the store's `expires_at` counts
  (so extending a session extends its token), and an ended session's token is refused.
- A session Memanto started is marked in its metadata (`memanto`), so the TUI shows that
  it has a token, never the token itself.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from memtui.domain.errors import AuthError

SESSION_WINDOW = timedelta(hours=6)
ISSUER = "memtui"
AUDIENCE = "memanto"
MARKER_KEY = "memanto"  # the session metadata key marking a Memanto session
MEMORY_TYPES: tuple[str, ...] = (
    "fact",
    "preference",
    "goal",
    "decision",
    "artifact",
    "learning",
    "event",
    "instruction",
    "relationship",
    "context",
    "observation",
    "commitment",
    "error",
)
DEFAULT_MEMORY_TYPE = "fact"
DEFAULT_CONFIDENCE = 0.8


def namespace(agent_id: str) -> str:
    return f"memanto_agent_{agent_id}"


def session_metadata(agent_id: str) -> dict[str, Any]:
    """What marks a session as Memanto's; `session_token` says one was issued, never
    what it is."""
    return {MARKER_KEY: {"namespace": namespace(agent_id), "session_token": "issued"}}


def is_memanto_session(metadata: dict[str, Any] | None) -> bool:
    marker = (metadata or {}).get(MARKER_KEY)
    return isinstance(marker, dict) and marker.get("session_token") == "issued"


def token_claims(
    agent_id: str, session_id: str, issued_at: datetime, expires_at: datetime
) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": agent_id,
        "agent_id": agent_id,
        "session_id": session_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": secrets.token_hex(8),
    }


def claimed_session(claims: dict[str, Any]) -> tuple[str, str]:
    """(agent_id, session_id) a verified token names; AuthError if it names none."""
    agent_id, session_id = claims.get("agent_id"), claims.get("session_id")
    if not isinstance(agent_id, str) or not isinstance(session_id, str):
        raise AuthError("invalid session token: it names no agent and session")
    if claims.get("sub") != agent_id:
        raise AuthError("invalid session token: its subject is not its agent")
    return agent_id, session_id


def time_remaining(expires_at: datetime | None, now: datetime) -> tuple[int, int]:
    """(whole minutes, whole seconds) left, never negative."""
    if expires_at is None:
        return (0, 0)
    seconds = max(0, int((expires_at - now).total_seconds()))
    return seconds // 60, seconds


def duration_hours(started_at: datetime, ended_at: datetime) -> float:
    return round(max(0.0, (ended_at - started_at).total_seconds()) / 3600, 4)
