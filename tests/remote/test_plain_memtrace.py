"""Against a plain Memtrace server (tests/helpers/plain_memtrace.py): capabilities
shrink to nothing beyond Memtrace, extension methods raise UnsupportedError politely,
and everything Memtrace offers keeps working."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from memtui.domain.errors import UnsupportedError
from memtui.domain.models import (
    Capability,
    ContextRequest,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    SessionStatus,
)
from memtui.remote import HttpBackend, MemtraceClient, MemtuiClient

UNSUPPORTED: list[tuple[str, str, Callable[[HttpBackend, str], Any]]] = [
    ("working_memory", "working memory", lambda b, s: b.list_working_memory(s)),
    ("working_memory", "working memory", lambda b, s: b.set_working_memory(s, "k", 1)),
    ("commit", "commit to long-term memory", lambda b, s: b.commit_working_memory(s)),
    ("expiry", "session expiry or extend", lambda b, s: b.extend_session(s)),
    ("session_delete", "session deletion", lambda b, s: b.delete_session(s)),
    ("snapshots", "snapshots", lambda b, s: b.create_snapshot(s, NewSnapshot())),
    ("snapshots", "snapshots", lambda b, s: b.list_snapshots(s)),
    ("snapshots", "snapshots", lambda b, s: b.latest_snapshot()),
    ("briefing", "briefings", lambda b, s: b.briefing()),
    ("memory_edit", "memory editing or deleting", lambda b, s: b.update_memory("x", MemoryPatch())),
    ("memory_edit", "memory editing or deleting", lambda b, s: b.delete_memories(["x"])),
    ("events", "a live event stream", lambda b, s: b.latest_change_id()),
    ("events", "a live event stream", lambda b, s: b.changes_since(0)),
    (
        "context_explain",
        "context explanations",
        lambda b, s: b.explain_context(s, ContextRequest()),
    ),
]


def test_capabilities_are_only_memtraces(plain_remote: HttpBackend) -> None:
    # What every Memtrace v1 server does (close/reopen, any type, given times, memories
    # of a session), none of memtui's extensions.
    assert plain_remote.capabilities() == {
        "session_close",
        "custom_memory_types",
        "memory_time",
        "session_memories",
    }
    assert plain_remote.is_plain_memtrace
    assert plain_remote.server_info.service != "memtui"


def test_each_kind_of_server_gets_its_own_client(
    plain_remote: HttpBackend, shared_remote: HttpBackend
) -> None:
    """One HttpBackend class, two clients over its one transport, chosen by GET /health."""
    plain_client = plain_remote.client
    assert type(plain_client) is MemtraceClient
    assert plain_client._transport is plain_remote._transport
    memtui_client = shared_remote.client
    assert type(memtui_client) is MemtuiClient
    assert memtui_client._transport is shared_remote._transport
    assert shared_remote.client is memtui_client  # chosen once


@pytest.mark.parametrize(("capability", "what", "call"), UNSUPPORTED)
def test_extensions_are_unsupported_with_a_polite_message(
    plain_remote: HttpBackend,
    capability: str,
    what: str,
    call: Callable[[HttpBackend, str], Any],
) -> None:
    session = plain_remote.create_session("plain-agent")
    with pytest.raises(UnsupportedError) as caught:
        call(plain_remote, session.id)
    assert caught.value.capability == capability
    assert str(caught.value) == f"this server is a plain Memtrace server: it has no {what}"


def test_sessions_work_and_never_expire(plain_remote: HttpBackend) -> None:
    session = plain_remote.create_session("sess-agent", metadata={"task": "t"}, ttl=timedelta(1))
    assert session.id.startswith("sess_")
    assert session.expires_at is None
    assert plain_remote.get_session(session.id).metadata == {"task": "t"}
    listed = plain_remote.list_sessions(agent_id="sess-agent")
    assert [s.id for s in listed] == [session.id]

    closed = plain_remote.close_session(session.id)  # PUT {status: closed}
    assert closed.status == SessionStatus.CLOSED
    assert closed.closed_at is not None
    assert plain_remote.list_sessions(agent_id="sess-agent", status="active") == []
    assert [s.id for s in plain_remote.list_sessions(agent_id="sess-agent", status="closed")] == [
        session.id
    ]


def test_memories_get_stable_synthetic_ids_and_cursor_paging_is_emulated(
    plain_remote: HttpBackend,
) -> None:
    session = plain_remote.create_session("pager")
    stored = plain_remote.add_memories(
        [
            NewMemory(
                agent_id="pager",
                session_id=session.id,
                content=f"step {i}",
                memory_type="decision" if i % 3 == 0 else "episodic",
                importance=i / 10,
            )
            for i in range(8)
        ]
    )
    assert all(m.id.startswith("mtr_") for m in stored)
    assert len({m.id for m in stored}) == 8

    seen: list[str] = []
    query = MemoryQuery(session_id=session.id, limit=3, order="asc")
    while True:
        page = plain_remote.list_memories(query)
        seen.extend(m.id for m in page.memories)
        if not page.has_more:
            break
        assert page.next_cursor is not None
        query = MemoryQuery(session_id=session.id, limit=3, order="asc", after=page.next_cursor)
    assert sorted(seen) == sorted(m.id for m in stored)  # every one once, ids stable
    assert len(seen) == 8

    # Filters Memtrace lacks are applied by the client.
    wanted = MemoryQuery(session_id=session.id, content_contains="STEP 1", limit=10)
    assert [m.content for m in plain_remote.list_memories(wanted).memories] == ["step 1"]
    important = MemoryQuery(session_id=session.id, min_importance=0.6, exclude_types=("decision",))
    assert sorted(m.content for m in plain_remote.list_memories(important).memories) == ["step 7"]
    assert plain_remote.count_memories(MemoryQuery(session_id=session.id)) == 8
    assert (
        plain_remote.count_memories(MemoryQuery(session_id=session.id, memory_types=("decision",)))
        == 3
    )
    # A synthetic id shows the memory it was given to.
    assert plain_remote.get_memory(stored[2].id).content == "step 2"
    assert set(plain_remote.list_memory_types()) == {"decision", "entity", "episodic", "session"}


def test_context_is_built_and_counted_locally(plain_remote: HttpBackend) -> None:
    from memtui.domain.tokens import count_tokens

    session = plain_remote.create_session("ctx")
    plain_remote.add_memories(
        [
            NewMemory(agent_id="ctx", session_id=session.id, content="read the logs"),
            NewMemory(
                agent_id="ctx", session_id=session.id, content="use SQLite", memory_type="decision"
            ),
        ]
    )
    result = plain_remote.build_context(session.id, ContextRequest())
    assert result.context.startswith(f"## Session Context ({session.id})")
    assert "use SQLite" in result.context
    assert result.memory_count == 2
    assert result.token_count == count_tokens(result.context, "cl100k_base")
    assert Capability.CONTEXT_BUDGET not in plain_remote.capabilities()


def test_agents_work(plain_remote: HttpBackend) -> None:
    agent = plain_remote.ensure_agent("plain-named")
    assert agent.name == "plain-named"
    assert plain_remote.ensure_agent("plain-named").id == agent.id
    assert "plain-named" in {a.name for a in plain_remote.list_agents()}
