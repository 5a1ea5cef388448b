"""What `memtui serve` needs beyond the Backend: a KeyStore and an ExpiryWatcher, offered
by the SQL store; the app factory takes any Backend plus any KeyStore."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from memtui.backend import (
    ChangeNotifier,
    ExpiryWatcher,
    HasChangeChannel,
    HasExpiryWatcher,
    HasKeyStore,
    KeyStore,
    ReportsActiveKeys,
)
from memtui.domain.api_keys import ApiKeyInfo, NewApiKey, generate_key
from memtui.domain.clock import ManualClock
from memtui.domain.errors import BackendUnavailableError, NotFoundError
from memtui.domain.models import ChangeKind
from memtui.store import SqlStore
from memtui.store.api_keys import SqlKeyStore
from tests.helpers.core_only_backend import CoreOnlyBackend
from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database


class DictKeyStore:
    """API keys in a dict: a KeyStore with no database at all."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.keys: dict[str, tuple[str, ApiKeyInfo]] = {}  # key -> (id, info)
        self.secrets: dict[str, bytes] = {}

    def create(self, name: str = "") -> NewApiKey:
        key = generate_key()
        info = ApiKeyInfo(f"key_{len(self.keys)}", name, key[:8] + "…", self.clock.now, None, None)
        self.keys[key] = (info.id, info)
        return NewApiKey(info=info, key=key)

    def list(self) -> list[ApiKeyInfo]:
        return [info for _, info in self.keys.values()]

    def count_active(self) -> int:
        return sum(1 for info in self.list() if not info.revoked)

    def revoke(self, key_id: str) -> ApiKeyInfo:
        raise NotFoundError(f"no API key with id {key_id!r}")

    def verified_recently(self, key: str) -> str | None:
        return None

    def verify(self, key: str) -> str | None:
        found = self.keys.get(key)
        return found[0] if found else None

    def signing_secret(self, purpose: str) -> bytes:
        return self.secrets.setdefault(purpose, os.urandom(32))

    def close(self) -> None:
        pass


def test_the_sql_store_offers_a_key_store_and_an_expiry_watcher(
    sqlite_url: str, clock: ManualClock
) -> None:
    with SqlStore(sqlite_url, clock=clock) as store:
        assert isinstance(store, HasKeyStore) and isinstance(store, HasExpiryWatcher)
        keys: KeyStore = store.key_store()
        created = keys.create("ci")
        assert keys.verify(created.key) == created.info.id
        assert [k.name for k in keys.list()] == ["ci"]
        keys.close()
        assert store.list_agents() == []  # closing the key store leaves the store open

        watcher: ExpiryWatcher = store.expiry_watcher()
        session = store.create_session("bot", ttl=timedelta(minutes=5))
        cursor = store.latest_change_id()
        clock.advance(minutes=6)
        assert watcher.emit_due() == 1  # type: ignore[attr-defined]
        [expired] = store.changes_since(cursor)
        assert (expired.kind, expired.entity_id) == (ChangeKind.SESSION_EXPIRED, session.id)


def test_the_sql_key_store_raises_only_domain_errors(tmp_path: Path) -> None:
    """The server answers a failing key store with 503 from the error type alone (it
    imports nothing of the store): the driver's error must arrive as a domain error."""
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing-directory' / 'keys.db'}")
    keys = SqlKeyStore(unreachable)
    assert isinstance(keys, ReportsActiveKeys)
    for call in (lambda: keys.verify(generate_key()), keys.list, lambda: keys.create("x")):
        with pytest.raises(BackendUnavailableError) as err:
            call()
        assert "cannot open the database" in err.value.message
    unreachable.dispose()


def test_the_sql_store_announces_its_commits(sqlite_url: str, clock: ManualClock) -> None:
    with SqlStore(sqlite_url, clock=clock) as store:
        assert isinstance(store, ChangeNotifier) and isinstance(store, HasChangeChannel)
        heard: list[int] = []
        store.add_change_listener(lambda: heard.append(store.latest_change_id()))
        store.ensure_agent("bot")
        assert heard == [store.latest_change_id()] and heard[0] > 0
        assert store.change_channel() is None  # SQLite: other processes are polled for


@pytest.mark.postgres
def test_a_postgres_store_names_its_notify_channel() -> None:
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_channel") as url, SqlStore(url) as store:
        channel = store.change_channel()
        assert channel is not None and channel.name == "memtui_changes"
        assert channel.own_payload == store.change_origin
        assert channel.url.startswith("postgresql://") and "memtui_channel" in channel.url
        assert channel.url not in repr(channel)  # the password is never in a log line


async def test_the_app_serves_any_backend_with_any_key_store(
    sqlite_url: str, clock: ManualClock
) -> None:
    from memtui.server.app import create_app

    backend = CoreOnlyBackend(SqlStore(sqlite_url, clock=clock))
    keys = DictKeyStore(clock)
    key = keys.create("test").key
    try:
        app = create_app(backend, key_store=keys)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            refused = await client.get("/api/v1/sessions")
            assert refused.status_code == 401
            created = await client.post(
                "/api/v1/sessions", json={"agent_id": "bot"}, headers={"x-api-key": key}
            )
            assert created.status_code in (200, 201), created.text
            listed = await client.get("/api/v1/sessions", headers={"x-api-key": key})
            assert [s["agent_id"] for s in listed.json()["sessions"]] == ["bot"]
    finally:
        backend.close()


def _check_signing_secrets(url: str, clock: ManualClock) -> None:
    with SqlStore(url, clock=clock) as store:
        keys = store.key_store()
        # Several threads (or servers) asking first at once all get the one secret.
        found: list[bytes] = []
        threads = [
            threading.Thread(target=lambda: found.append(keys.signing_secret("memanto-token")))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(found)) == 1 and len(found[0]) == 32
        assert keys.signing_secret("other") != found[0]
        with pytest.raises(ValueError, match="invalid secret purpose"):
            keys.signing_secret("no spaces")
        assert keys.list() == []  # a secret is not a key: never listed
        keys.close()
    with SqlStore(url, clock=clock) as reopened:  # the same after a restart
        keys = reopened.key_store()
        assert keys.signing_secret("memanto-token") == found[0]
        keys.close()


def test_a_sqlite_store_keeps_one_signing_secret_per_purpose(
    sqlite_url: str, clock: ManualClock
) -> None:
    _check_signing_secrets(sqlite_url, clock)


def test_a_postgres_store_keeps_one_signing_secret_per_purpose(clock: ManualClock) -> None:
    skip_or_fail_without_postgres()
    with throwaway_database("memtui_secrets") as url:
        _check_signing_secrets(url, clock)
