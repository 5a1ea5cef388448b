"""BackendBase: an adapter implements the core methods and gets the rest; what it does
not offer is refused with UnsupportedError naming the capability. (Its built-in
commit and briefing also run the whole contract suite as the `base` kind.)"""

from __future__ import annotations

import abc
from datetime import timedelta
from typing import Any

import pytest

from memtui.backend import Backend, BackendBase, Capability, UnsupportedError
from memtui.domain.clock import ManualClock
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.models import MEMTRACE_MEMORY_TYPES, Agent, MemoryPatch, NewSnapshot
from memtui.store import SqlStore

CORE = (
    "describe",
    "create_agent",
    "list_agents",
    "get_agent",
    "delete_agent",
    "agent_stats",
    "create_session",
    "list_sessions",
    "get_session",
    "update_session",
    "add_memories",
    "get_memory",
    "list_memories",
    "count_memories",
    "build_context",
)


class CoreOnly(BackendBase):
    """The core methods of a SQLite store and nothing else; no capabilities."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(clock=store.now)
        self.store = store
        self.released = 0

    def _release(self) -> None:
        self.released += 1
        self.store.close()


def _forward(name: str) -> Any:
    def method(self: CoreOnly, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.store, name)(*args, **kwargs)

    return method


for _name in CORE:
    setattr(CoreOnly, _name, _forward(_name))
abc.update_abstractmethods(CoreOnly)


@pytest.fixture
def core(sqlite_url: str, clock: ManualClock) -> Any:
    backend = CoreOnly(SqlStore(sqlite_url, clock=clock))
    yield backend
    backend.close()


def test_the_abstract_methods_are_exactly_the_core() -> None:
    assert BackendBase.__abstractmethods__ == frozenset(CORE)
    assert not CoreOnly.__abstractmethods__


def test_an_adapter_with_only_the_core_is_a_backend(core: CoreOnly) -> None:
    assert isinstance(core, Backend)
    assert core.capabilities() == frozenset()
    session = core.create_session("bot")
    assert core.close_session(session.id).status == "closed"
    assert core.list_memory_types() == sorted(MEMTRACE_MEMORY_TYPES)


@pytest.mark.parametrize(
    ("call", "capability"),
    [
        (lambda b, s: b.extend_session(s), Capability.EXPIRY),
        (lambda b, s: b.delete_session(s), Capability.SESSION_DELETE),
        (lambda b, s: b.update_memory("m", MemoryPatch(content="x")), Capability.MEMORY_EDIT),
        (lambda b, s: b.delete_memories(["m"]), Capability.MEMORY_EDIT),
        (lambda b, s: b.list_working_memory(s), Capability.WORKING_MEMORY),
        (lambda b, s: b.get_working_memory(s, "k"), Capability.WORKING_MEMORY),
        (lambda b, s: b.set_working_memory(s, "k", 1), Capability.WORKING_MEMORY),
        (lambda b, s: b.rename_working_memory(s, "k", "j"), Capability.WORKING_MEMORY),
        (lambda b, s: b.delete_working_memory(s, "k"), Capability.WORKING_MEMORY),
        (lambda b, s: b.commit_working_memory(s), Capability.COMMIT),
        (lambda b, s: b.create_snapshot(s, NewSnapshot(event="checkpoint")), Capability.SNAPSHOTS),
        (lambda b, s: b.list_snapshots(s), Capability.SNAPSHOTS),
        (lambda b, s: b.get_snapshot("snap"), Capability.SNAPSHOTS),
        (lambda b, s: b.latest_snapshot(), Capability.SNAPSHOTS),
        (lambda b, s: b.briefing(), Capability.BRIEFING),
        (lambda b, s: b.latest_change_id(), Capability.EVENTS),
        (lambda b, s: b.changes_since(0), Capability.EVENTS),
    ],
)
def test_what_an_adapter_does_not_offer_is_refused_by_name(
    core: CoreOnly, call: Any, capability: Capability
) -> None:
    session = core.create_session("bot")
    with pytest.raises(UnsupportedError) as raised:
        call(core, session.id)
    assert raised.value.capability == capability
    assert str(raised.value).startswith(core.describe() + " does not offer ")


def test_briefing_is_built_on_the_core_once_offered(core: CoreOnly, clock: ManualClock) -> None:
    class WithBriefing(CoreOnly):
        def capabilities(self) -> frozenset[str]:
            return frozenset({Capability.BRIEFING})

    backend = WithBriefing(core.store)
    session = backend.create_session("bot", ttl=timedelta(minutes=30))
    briefing = backend.briefing(agent_id="bot")
    assert briefing.agent_id == "bot"
    assert [s.id for s in briefing.active_sessions] == [session.id]
    assert [s.id for s in briefing.expiring_soon] == [session.id]
    assert briefing.open_threads == []  # no snapshots offered: no open threads


def test_ensure_agent_gets_or_creates(core: CoreOnly) -> None:
    created = core.ensure_agent("helper")
    assert created.name == "helper"
    assert core.ensure_agent("helper") == created
    assert len(core.list_agents()) == 1


def test_ensure_agent_returns_the_agent_another_writer_registered_first(
    core: CoreOnly,
) -> None:
    registered = core.create_agent("racer")
    lookups: list[str] = []

    class Racing(CoreOnly):
        def get_agent(self, id_or_name: str) -> Agent:
            lookups.append(id_or_name)
            if len(lookups) == 1:
                raise NotFoundError(f"agent {id_or_name!r} not found")
            return self.store.get_agent(id_or_name)

        def create_agent(self, name: str, **_: Any) -> Agent:
            raise ConflictError(f"an agent named {name!r} already exists")

    assert Racing(core.store).ensure_agent("racer") == registered
    assert lookups == ["racer", "racer"]


def test_close_releases_once(core: CoreOnly) -> None:
    with core as backend:
        assert backend is core
    core.close()
    assert core.released == 1
