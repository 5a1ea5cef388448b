"""Replaying history to a time gives the store's real state at that time: over random
sequences of writes, edits, deletes and restores (with times that tie and times that
jump), the session's memories as of every moment equal what the store listed then; and
the context as of then is the one built then."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memtui.domain.clock import ManualClock
from memtui.domain.errors import ConflictError, NotFoundError
from memtui.domain.models import ContextRequest, MemoryPatch, MemoryQuery, NewMemory
from memtui.store import SqlStore

START = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
SESSIONS = ("sess_a", "sess_b")
WORDS = ["alpha", "beta", "gamma", "delta", "[b]x[/b]", "\x1b[2J", "ü"]

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.sampled_from(SESSIONS),
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
            st.integers(0, 3),  # how many seconds before now its time is (ties happen)
            st.sampled_from([None, 0.2, 0.9]),
        ),
        st.tuples(st.just("edit"), st.integers(0, 50), st.sampled_from(WORDS)),
        st.tuples(st.just("tag"), st.integers(0, 50), st.sampled_from(["t1", "t2"])),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("restore"), st.integers(0, 50)),
        st.tuples(st.just("wait"), st.integers(0, 90)),
    ),
    max_size=40,
)


def _listed(store: SqlStore, session_id: str) -> list[dict]:
    page = store.list_memories(MemoryQuery(session_id=session_id, limit=1000))
    return [m.to_json() for m in page.memories]


@pytest.fixture
def new_store(tmp_path: Path):
    counter = itertools.count()

    def make() -> tuple[SqlStore, ManualClock]:
        clock = ManualClock(START)
        store = SqlStore(f"sqlite:///{tmp_path / f'replay{next(counter)}.db'}", clock=clock)
        for session_id in SESSIONS:
            store.create_session("agent", session_id=session_id, ttl=None)
        return store, clock

    return make


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_replay_to_any_time_equals_the_state_then(new_store, ops) -> None:
    store, clock = new_store()
    try:
        ids: list[str] = []
        seen: list[tuple[datetime, dict[str, list[dict]], dict[str, str]]] = []
        number = 0
        for op in ops:
            kind = op[0]
            if kind == "add":
                _, session_id, words, back, importance = op
                number += 1
                [memory] = store.add_memories(
                    [
                        NewMemory(
                            agent_id="agent",
                            session_id=session_id,
                            content=" ".join(words) + f" #{number}",
                            importance=importance,
                            time=clock.now - timedelta(seconds=back),
                        )
                    ]
                )
                ids.append(memory.id)
            elif kind in ("edit", "tag", "delete") and ids:
                memory_id = ids[op[1] % len(ids)]
                try:
                    if kind == "edit":
                        store.update_memory(memory_id, MemoryPatch(content=f"edited {op[2]}"))
                    elif kind == "tag":
                        store.update_memory(memory_id, MemoryPatch(tags=[op[2]]))
                    else:
                        store.delete_memories([memory_id])
                except NotFoundError:  # it was deleted: nothing changes
                    pass
            elif kind == "restore":
                items = store.list_trash()
                if items:
                    with contextlib.suppress(ConflictError):  # its id is taken: no change
                        store.restore_from_trash(items[op[1] % len(items)].id)
            elif kind == "wait":
                clock.advance(seconds=op[1])
            state = {s: _listed(store, s) for s in SESSIONS}
            contexts = {
                s: store.build_context(s, ContextRequest(max_tokens=60)).context for s in SESSIONS
            }
            if seen and seen[-1][0] == clock.now:
                seen[-1] = (clock.now, state, contexts)  # the last write of that moment
            else:
                seen.append((clock.now, state, contexts))

        for at, state, contexts in seen:
            for session_id in SESSIONS:
                replayed = store.memories_as_of(session_id, at)
                assert [m.to_json() for m in replayed] == state[session_id]
                as_of = store.build_context(
                    session_id, ContextRequest(max_tokens=60, as_of=at.isoformat())
                )
                assert as_of.context == contexts[session_id]
        # Before anything was written, there was nothing.
        assert store.memories_as_of("sess_a", START - timedelta(seconds=1)) == []
    finally:
        store.close()
