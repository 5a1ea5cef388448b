"""API keys, following Memtrace's model: `mtk_` + 32 random bytes (URL-safe base64),
stored only as a hash. What a key store holds and hands out; the SQL table is
memtui.store.api_keys, the protocol memtui.backend.KeyStore."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

KEY_PREFIX = "mtk_"
KEY_RANDOM_BYTES = 32


def generate_key() -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(KEY_RANDOM_BYTES)).decode()


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """A key as `keys list` shows it: never the key itself."""

    id: str
    name: str
    prefix: str  # masked, e.g. mtk_AbCd…
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly created key: `key` is shown once and never stored."""

    info: ApiKeyInfo
    key: str
