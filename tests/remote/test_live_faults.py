"""Faults against a real `memtui serve`: wrong or missing key, unknown ids, the server
killed mid-session and restarted (calls recover, the event follower resumes with
Last-Event-ID and misses nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from memtui.domain.errors import (
    AuthError,
    BackendUnavailableError,
    NotFoundError,
    VersionConflictError,
)
from memtui.domain.models import Capability, ChangeKind, MemoryQuery, NewMemory
from memtui.remote import ConnectionStatus, HttpBackend
from tests.remote.conftest import wait_for


def test_wrong_key_is_a_401_with_a_specific_message(shared_server: Any) -> None:
    live_server = shared_server
    wrong = "mtk_" + "0" * 43
    backend = HttpBackend(live_server.url, api_key=wrong)
    try:
        # /health needs no key, so capabilities are still known.
        assert Capability.WORKING_MEMORY in backend.capabilities()
        with pytest.raises(AuthError) as caught:
            backend.list_sessions()
        assert str(caught.value) == (
            "the server rejected the API key (invalid API key) — check --api-key or MEMTUI_API_KEY"
        )
        assert wrong not in str(caught.value)
        assert backend.connection_state.status == ConnectionStatus.CONNECTED  # it answered
    finally:
        backend.close()
    assert wrong not in live_server.output()


def test_missing_key_says_one_is_needed(shared_server: Any) -> None:
    with HttpBackend(shared_server.url) as backend, pytest.raises(AuthError) as caught:
        backend.list_agents()
    assert str(caught.value) == (
        "the server requires an API key (missing API key) — pass --api-key or set MEMTUI_API_KEY"
    )


def test_unknown_ids_are_not_found_with_the_servers_text(shared_remote: HttpBackend) -> None:
    remote = shared_remote
    with pytest.raises(NotFoundError) as caught:
        remote.get_session("sess_does_not_exist")
    assert "sess_does_not_exist" in str(caught.value)
    with pytest.raises(NotFoundError):
        remote.get_memory("mem_nope")
    assert remote.delete_memories(["mem_nope"]) == 0


def test_a_stale_working_memory_version_carries_the_current_item(
    shared_remote: HttpBackend,
) -> None:
    remote = shared_remote
    session = remote.create_session("writer")
    remote.set_working_memory(session.id, "plan", {"step": 1}, expected_version=0)
    with pytest.raises(VersionConflictError) as caught:
        remote.set_working_memory(session.id, "plan", {"step": 99}, expected_version=0)
    current = caught.value.current
    assert current is not None
    assert (current.session_id, current.key, current.value, current.version) == (
        session.id,
        "plan",
        {"step": 1},
        1,
    )
    assert caught.value.expected_version == 0


def test_server_killed_mid_session_then_restarted(
    live_server: Any, remote: HttpBackend, file_clock: Any
) -> None:
    from memtui.store import SqlStore

    session = remote.create_session("agent-k")
    cursor = remote.latest_change_id()
    follower = remote.event_follower
    assert follower is not None
    wait_for(lambda: follower.connected)
    remote.add_memories([NewMemory(agent_id="agent-k", content="before", session_id=session.id)])

    live_server.kill()

    with pytest.raises(BackendUnavailableError) as caught:
        remote.get_session(session.id)
    assert str(caught.value) == f"cannot reach the memtui server at {live_server.url}: " + (
        "connection refused"
    )
    state = remote.connection_state
    assert state.status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.RECONNECTING)
    assert "connection refused" in state.message
    wait_for(lambda: not follower.connected)

    # While the server is down another writer changes the store directly.
    store = SqlStore(live_server.db_url, clock=file_clock)
    try:
        store.add_memories(
            [NewMemory(agent_id="agent-k", content="during the outage", session_id=session.id)]
        )
        expected = [c.id for c in store.changes_since(cursor)]
    finally:
        store.close()

    live_server.start()

    # The next calls just work…
    assert remote.get_session(session.id).id == session.id
    assert remote.connection_state.status == ConnectionStatus.CONNECTED
    page = remote.list_memories(MemoryQuery(session_id=session.id, order="asc"))
    assert [m.content for m in page.memories] == ["before", "during the outage"]

    # …and the follower resumed from where it was, with nothing missed.
    wait_for(lambda: follower.connected and follower.last_id >= expected[-1])
    assert follower.reconnects >= 1
    assert [c.id for c in follower.since(cursor, 1000)] == expected
    seen = remote.changes_since(cursor)
    assert [c.id for c in seen] == expected
    assert [c.kind for c in seen].count(ChangeKind.MEMORY_CREATED) == 2


def test_event_stream_delivers_other_writers_changes(
    shared_server: Any, shared_remote: HttpBackend
) -> None:
    live_server, remote, file_clock = shared_server, shared_remote, shared_server.file_clock
    cursor = remote.latest_change_id()
    follower = remote.event_follower
    assert follower is not None
    wait_for(lambda: follower.connected)

    other = HttpBackend(live_server.url, api_key=live_server.api_key, clock=file_clock)
    try:
        session = other.create_session("other-writer")
        other.set_working_memory(session.id, "k", [1, 2, 3])
    finally:
        other.close()

    wait_for(lambda: len(follower.since(cursor, 100)) >= 3)
    # Served from the stream's buffer, not fetched: it matches the server's feed exactly.
    from_buffer = remote.changes_since(cursor)
    kinds = [c.kind for c in from_buffer]
    assert ChangeKind.SESSION_CREATED in kinds
    assert ChangeKind.WORKING_MEMORY_CHANGED in kinds
    assert [c.session_id for c in from_buffer if c.kind != ChangeKind.AGENT_CREATED] == [
        session.id
    ] * (len(from_buffer) - kinds.count(ChangeKind.AGENT_CREATED))


def test_close_stops_the_follower_thread(shared_remote: HttpBackend) -> None:
    remote = shared_remote
    remote.latest_change_id()
    follower = remote.event_follower
    assert follower is not None
    wait_for(lambda: follower.connected)
    remote.close()
    assert not follower._thread.is_alive()
