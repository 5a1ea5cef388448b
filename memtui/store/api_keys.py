"""The API key table of a SQL store: `SqlStore.key_store()` gives `memtui serve` its
`memtui.backend.KeyStore`. Keys follow Memtrace's model (memtui.domain.api_keys):
`mtk_` + 32 random bytes, stored only as a hash.

Memtrace bcrypts keys; a key is 256 random bits, so a single sha256 is as strong against
guessing and keeps per-request verification to one indexed lookup. The `prefix` column
holds the masked form (`mtk_AbCd…`) so `keys list` can show which key is which.
"""

from __future__ import annotations

import functools
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from memtui.config import mask_secret
from memtui.domain.api_keys import KEY_PREFIX, ApiKeyInfo, NewApiKey, generate_key, hash_key
from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import NotFoundError
from memtui.store.errors import to_memtui_error
from memtui.store.tables import ApiKeyTable, SchemaMetaTable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# A verified key is trusted this long before the table is asked again, so a revoked key
# stops working within about a second without a query on every request.
VERIFY_CACHE_SECONDS = 1.0
# last_used_at is written at most this often per key: writes are the scarce resource.
LAST_USED_RESOLUTION_SECONDS = 60.0

_api_key = ApiKeyTable.__table__
_meta = SchemaMetaTable.__table__
SECRET_BYTES = 32
_PURPOSE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")

P = ParamSpec("P")
R = TypeVar("R")


def _domain_errors(method: Callable[P, R]) -> Callable[P, R]:
    """The KeyStore protocol raises only memtui.domain.errors (the server answers a
    BackendUnavailableError with 503): a driver's error becomes one of them here."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise to_memtui_error(exc, "the store") from exc

    return wrapper


def _info(row: Any) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlKeyStore:
    """The `api_key` table of a store (a `memtui.backend.KeyStore`). Thread-safe."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now, owner: Any = None) -> None:
        self._engine = engine
        self._clock = clock
        self._owner = owner  # a SqlStore opened just for keys, closed with us
        self._lock = threading.Lock()
        self._verified: dict[str, tuple[float, str]] = {}  # hash -> (checked at, key id)
        self._last_used_written: dict[str, float] = {}
        self._secrets: dict[str, bytes] = {}

    @classmethod
    def open(cls, db_url: str, *, clock: Clock = utc_now) -> SqlKeyStore:
        """Opens (and if need be creates) the store at `db_url` for its key table."""
        from memtui.store import SqlStore

        store = SqlStore(db_url, clock=clock)
        return cls(store.engine, clock=clock, owner=store)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()
            self._owner = None

    # --- management -----------------------------------------------------------------

    @_domain_errors
    def create(self, name: str = "") -> NewApiKey:
        key = generate_key()
        info = ApiKeyInfo(
            id="key_" + secrets.token_hex(6),
            name=name,
            prefix=mask_secret(key),
            created_at=self._clock(),
            revoked_at=None,
            last_used_at=None,
        )
        with self._engine.begin() as connection:
            connection.execute(
                insert(_api_key).values(
                    id=info.id,
                    name=info.name,
                    key_hash=hash_key(key),
                    prefix=info.prefix,
                    created_at=info.created_at,
                )
            )
        return NewApiKey(info=info, key=key)

    @_domain_errors
    def list(self) -> list[ApiKeyInfo]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(_api_key).order_by(_api_key.c.created_at, _api_key.c.id)
            ).all()
        return [_info(row) for row in rows]

    def count_active(self) -> int:
        return sum(1 for info in self.list() if not info.revoked)

    @_domain_errors
    def revoke(self, key_id: str) -> ApiKeyInfo:
        """NotFoundError for an unknown id; revoking twice keeps the first time."""
        with self._engine.begin() as connection:
            row = connection.execute(select(_api_key).where(_api_key.c.id == key_id)).first()
            if row is None:
                raise NotFoundError(f"no API key with id {key_id!r}")
            if row.revoked_at is None:
                connection.execute(
                    update(_api_key).where(_api_key.c.id == key_id).values(revoked_at=self._clock())
                )
                row = connection.execute(select(_api_key).where(_api_key.c.id == key_id)).first()
        with self._lock:
            self._verified.clear()
        return _info(row)

    @_domain_errors
    def active_among(self, key_ids: Iterable[str]) -> set[str]:
        """Which of these key ids exist and are not revoked (one query, any process's
        revocation included)."""
        ids = sorted(set(key_ids))
        if not ids:
            return set()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(_api_key.c.id).where(_api_key.c.id.in_(ids), _api_key.c.revoked_at.is_(None))
            )
            return {row.id for row in rows}

    # --- signing secrets ---------------------------------------------------------------

    def signing_secret(self, purpose: str) -> bytes:
        """The store's secret for `purpose`, made on first use. It lives in the store's
        `schema_meta` table (key `secret.<purpose>`), so every server over the store
        shares it; two servers making it at once agree on the first one written."""
        if not purpose or len(purpose) > 40 or not set(purpose) <= _PURPOSE_CHARS:
            raise ValueError(f"invalid secret purpose {purpose!r}")
        key = f"secret.{purpose}"
        with self._lock:
            cached = self._secrets.get(purpose)
        if cached is not None:
            return cached
        query = select(_meta.c.value).where(_meta.c.key == key)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            try:
                with self._engine.begin() as connection:
                    connection.execute(
                        insert(_meta).values(key=key, value=secrets.token_hex(SECRET_BYTES))
                    )
            except IntegrityError:
                pass  # another server made it first: use theirs
            with self._engine.connect() as connection:
                row = connection.execute(query).first()
        secret = bytes.fromhex(row.value)
        with self._lock:
            self._secrets[purpose] = secret
        return secret

    # --- verification ----------------------------------------------------------------

    def verified_recently(self, key: str) -> str | None:
        """The key's id if it was verified within the cache window and needs no
        bookkeeping write; else None (then call `verify`). Never touches the database,
        so the event loop may call it."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(hash_key(key))
            if cached is None or now - cached[0] >= VERIFY_CACHE_SECONDS:
                return None
            last = self._last_used_written.get(cached[1])
            if last is None or now - last >= LAST_USED_RESOLUTION_SECONDS:
                return None
            return cached[1]

    @_domain_errors
    def verify(self, key: str) -> str | None:
        """The key's id if `key` is a valid, unrevoked key; else None."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(digest)
        if cached is not None and now - cached[0] < VERIFY_CACHE_SECONDS:
            key_id = cached[1]
        else:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(_api_key.c.id, _api_key.c.revoked_at).where(
                        _api_key.c.key_hash == digest
                    )
                ).first()
            if row is None or row.revoked_at is not None:
                with self._lock:
                    self._verified.pop(digest, None)
                return None
            key_id = row.id
            with self._lock:
                self._verified[digest] = (now, key_id)
        self._touch(key_id, now)
        return key_id

    def _touch(self, key_id: str, now: float) -> None:
        with self._lock:
            last = self._last_used_written.get(key_id)
            if last is not None and now - last < LAST_USED_RESOLUTION_SECONDS:
                return
            self._last_used_written[key_id] = now
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(_api_key)
                    .where(_api_key.c.id == key_id)
                    .values(last_used_at=self._clock())
                )
        except Exception:  # noqa: BLE001 - bookkeeping must never fail a request
            with self._lock:
                self._last_used_written.pop(key_id, None)
