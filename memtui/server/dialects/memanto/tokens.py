"""Memanto session tokens: JWTs (HS256, PyJWT) signed with the store's secret for this
purpose (`KeyStore.signing_secret`), so every server over the store accepts them and a
restart does not void them. A token is never logged, listed or shown: errors about one
never quote it."""

from __future__ import annotations

import threading
from typing import Any

import jwt

from memtui.backend import Backend, KeyStore
from memtui.domain.dialects import memanto as rules
from memtui.domain.errors import AuthError, NotFoundError
from memtui.domain.models import Session, SessionStatus

SECRET_PURPOSE = "memanto-session-token"
ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096


class SessionTokens:
    def __init__(self, key_store: KeyStore, backend: Backend) -> None:
        self._key_store = key_store
        self._backend = backend
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def _key(self) -> bytes:
        with self._lock:
            if self._secret is None:
                self._secret = self._key_store.signing_secret(SECRET_PURPOSE)
            return self._secret

    def issue(self, session: Session) -> str:
        expires_at = session.expires_at or session.created_at + rules.SESSION_WINDOW
        claims = rules.token_claims(session.agent_id, session.id, session.created_at, expires_at)
        return jwt.encode(claims, self._key(), algorithm=ALGORITHM)

    def _claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("invalid session token")
        try:
            # `exp` is checked against the session in the store below (the backend's
            # clock; extending a session extends its token), not the token's own copy.
            return jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                audience=rules.AUDIENCE,
                issuer=rules.ISSUER,
                options={"verify_exp": False, "require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError:
            raise AuthError("invalid session token: not one this server signed") from None

    def session_for(self, token: str | None, *, agent_id: str | None = None) -> Session:
        """The live session a token names, else AuthError (401) saying why."""
        if not token:
            raise AuthError("a session token is required (X-Session-Token); activate the agent")
        claimed_agent, session_id = rules.claimed_session(self._claims(token))
        if agent_id is not None and claimed_agent != agent_id:
            raise AuthError(f"the session token belongs to another agent, not {agent_id!r}")
        try:
            session = self._backend.get_session(session_id)
        except NotFoundError:
            raise AuthError("the session token's session no longer exists") from None
        if session.agent_id != claimed_agent:
            raise AuthError("invalid session token: its session belongs to another agent")
        status = session.effective_status(self._backend.now())
        if status is SessionStatus.CLOSED:
            raise AuthError("the session token's session has ended; activate the agent again")
        if status is SessionStatus.EXPIRED:
            raise AuthError("the session token has expired; activate the agent again")
        return session
