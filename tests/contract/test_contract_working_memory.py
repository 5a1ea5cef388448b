"""Working memory: versions, conflicts, rename, delete, and commit to long-term memory."""

from __future__ import annotations

import pytest

from memtui.backend import Backend
from memtui.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from memtui.domain.models import DEFAULT_WORKING_MEMORY_IMPORTANCE, MemoryQuery
from tests.helpers.requirements import TEST_CLOCK, Capability, requires


@pytest.fixture
def session_id(backend: Backend) -> str:
    return backend.create_session("coder").id


@requires(TEST_CLOCK, Capability.WORKING_MEMORY_IMPORTANCE)
def test_set_creates_then_bumps_the_version(backend: Backend, session_id: str, clock) -> None:
    value = {"goal": "fix auth", "files": ["auth.py"], "nested": {"depth": [1, {"x": None}]}}
    created = backend.set_working_memory(session_id, "task", value)
    assert (created.version, created.value, created.importance) == (
        1,
        value,
        DEFAULT_WORKING_MEMORY_IMPORTANCE,
    )
    assert created.updated_at == clock.now

    clock.advance(seconds=30)
    updated = backend.set_working_memory(session_id, "task", [1, 2], importance=0.9)
    assert (updated.version, updated.value, updated.importance) == (2, [1, 2], 0.9)
    assert updated.updated_at == clock.now
    assert backend.get_working_memory(session_id, "task") == updated


def test_list_is_sorted_by_key(backend: Backend, session_id: str) -> None:
    for key in ("b", "a", "c"):
        backend.set_working_memory(session_id, key, key.upper())
    assert [i.key for i in backend.list_working_memory(session_id)] == ["a", "b", "c"]


def test_stale_expected_version_is_refused_with_the_current_item(
    backend: Backend, session_id: str
) -> None:
    backend.set_working_memory(session_id, "k", "v1")
    backend.set_working_memory(session_id, "k", "v2", expected_version=1)

    with pytest.raises(VersionConflictError) as err:
        backend.set_working_memory(session_id, "k", "mine", expected_version=1)

    assert err.value.expected_version == 1
    assert err.value.current is not None
    assert (err.value.current.value, err.value.current.version) == ("v2", 2)
    assert backend.get_working_memory(session_id, "k").value == "v2"


def test_expected_version_zero_means_must_not_exist(backend: Backend, session_id: str) -> None:
    assert backend.set_working_memory(session_id, "new", 1, expected_version=0).version == 1
    with pytest.raises(VersionConflictError) as err:
        backend.set_working_memory(session_id, "new", 2, expected_version=0)
    assert err.value.current is not None and err.value.current.value == 1


@requires(Capability.WORKING_MEMORY_RENAME, Capability.WORKING_MEMORY_DELETE)
def test_rename_and_delete(backend: Backend, session_id: str) -> None:
    backend.set_working_memory(session_id, "old", {"a": 1})
    backend.set_working_memory(session_id, "taken", 0)

    with pytest.raises(ConflictError):
        backend.rename_working_memory(session_id, "old", "taken")
    with pytest.raises(VersionConflictError):
        backend.rename_working_memory(session_id, "old", "new", expected_version=7)
    renamed = backend.rename_working_memory(session_id, "old", "new", expected_version=1)
    assert renamed.key == "new" and renamed.value == {"a": 1}
    with pytest.raises(NotFoundError):
        backend.get_working_memory(session_id, "old")

    with pytest.raises(VersionConflictError):
        backend.delete_working_memory(session_id, "new", expected_version=1)
    backend.delete_working_memory(session_id, "new", expected_version=renamed.version)
    assert [i.key for i in backend.list_working_memory(session_id)] == ["taken"]
    with pytest.raises(NotFoundError):
        backend.delete_working_memory(session_id, "new")


def test_bad_values_and_unknown_session(backend: Backend, session_id: str) -> None:
    with pytest.raises(InvalidInputError, match="value"):
        backend.set_working_memory(session_id, "k", {1, 2})
    with pytest.raises(InvalidInputError, match="importance"):
        backend.set_working_memory(session_id, "k", 1, importance=3)
    with pytest.raises(NotFoundError, match="sess_nope"):
        backend.set_working_memory("sess_nope", "k", 1)
    assert backend.list_working_memory(session_id) == []


@requires(Capability.COMMIT, Capability.WORKING_MEMORY_IMPORTANCE)
def test_commit_filters_by_importance_and_deduplicates(backend: Backend, session_id: str) -> None:
    backend.set_working_memory(session_id, "decision", {"use": "postgres"}, importance=0.8)
    backend.set_working_memory(session_id, "scratch", "tmp", importance=0.2)
    backend.set_working_memory(session_id, "goal", "ship it", importance=0.5)

    result = backend.commit_working_memory(session_id, min_importance=0.5)

    assert result.memories_created == 2
    assert sorted(result.created_keys) == ["decision", "goal"]
    assert result.skipped_keys == ["scratch"]
    assert result.memories_deduplicated == 0
    memories = [backend.get_memory(i) for i in result.memory_ids]
    decision = next(m for m in memories if m.tags == ["decision"])
    assert decision.memory_type == "session" and decision.event_type == "commit"
    assert decision.session_id == session_id and decision.importance == 0.8
    assert decision.content == 'decision: {"use":"postgres"}'

    again = backend.commit_working_memory(session_id, min_importance=0.5)
    assert again.memories_created == 0
    assert again.memories_deduplicated == 2
    assert sorted(again.deduplicated_keys) == ["decision", "goal"]

    forced = backend.commit_working_memory(session_id, min_importance=0.5, deduplicate=False)
    assert forced.memories_created == 2
    assert backend.count_memories(MemoryQuery(session_id=session_id)) == 4


def test_racing_writers_with_the_same_version_give_one_success(
    backend: Backend, session_id: str
) -> None:
    import threading

    backend.set_working_memory(session_id, "counter", 0)
    for round_number in range(5):
        expected = backend.get_working_memory(session_id, "counter").version
        barrier = threading.Barrier(4)
        outcomes: list[str] = []

        def write(
            n: int,
            expected: int = expected,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                backend.set_working_memory(session_id, "counter", n, expected_version=expected)
                outcomes.append("ok")
            except VersionConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * 3 + ["ok"], round_number
        assert backend.get_working_memory(session_id, "counter").version == expected + 1
