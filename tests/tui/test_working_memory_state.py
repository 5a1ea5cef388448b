"""The working-memory pane's state (memtui.tui.state.working_memory), without an App."""

from __future__ import annotations

import json
from typing import Any

import pytest

from memtui.domain.models import CommitResult, WorkingMemoryItem
from memtui.tui.state.working_memory import (
    Draft,
    Reconciled,
    WorkingMemoryState,
    describe_commit,
    describe_json_error,
    expected_after_conflict,
)
from memtui.tui.value_text import LARGE_VALUE_CHARS, value_text
from tests.conftest import FROZEN_NOW


def item(
    key: str, value: Any = None, *, version: int = 1, importance: float = 0.5
) -> WorkingMemoryItem:
    return WorkingMemoryItem(
        session_id="s1",
        key=key,
        value={"v": version} if value is None else value,
        importance=importance,
        version=version,
        updated_at=FROZEN_NOW,
    )


def loaded_state(*items: WorkingMemoryItem, session: str = "s1") -> WorkingMemoryState:
    state = WorkingMemoryState()
    state.switch_session(session, "")
    generation = state.begin_load()
    assert state.is_current(session, generation)
    state.apply_items(list(items), {})
    state.open(items[0])
    return state


def test_opening_an_item_bases_the_editor_on_its_version() -> None:
    state = loaded_state(item("plan", {"a": 1}, version=3))
    assert state.loaded_key == "plan"
    assert json.loads(state.loaded_text) == {"a": 1}
    assert not state.is_dirty(state.loaded_text)
    assert state.is_dirty(state.loaded_text + " ")
    assert state.dirty_key("{}") == "plan"
    assert state.save_refused() is None


def test_a_load_for_another_session_or_an_older_load_is_stale() -> None:
    state = WorkingMemoryState()
    state.switch_session("s1", "")
    first = state.begin_load()
    second = state.begin_load()
    assert not state.is_current("s1", first)
    assert state.is_current("s1", second)
    assert not state.is_current("s2", second)
    assert state.is_current("s1")  # a write's result: only the session matters


def test_switching_sessions_keeps_unsaved_edits_as_a_draft_that_comes_back() -> None:
    base = item("plan", version=2)
    state = loaded_state(base)
    stashed = state.switch_session("s2", "edited text")
    assert stashed == Draft(base, "edited text")
    assert state.loaded is None and state.items == {}
    assert state.take_draft() is None  # s2 has none
    state.switch_session("s1", "")
    assert state.take_draft() == Draft(base, "edited text")
    assert state.take_draft() is None  # given back once


def test_switching_sessions_without_edits_keeps_no_draft() -> None:
    state = loaded_state(item("plan"))
    assert state.switch_session("s2", state.loaded_text) is None
    assert state.drafts == {}


def test_a_restored_draft_is_marked_when_the_store_moved_on() -> None:
    base = item("plan", version=2)
    state = loaded_state(item("plan", version=4))
    state.open(base)
    state.mark_draft(Draft(base, "x"))
    assert state.store_item is not None and state.store_item.version == 4
    state.apply_items([], {})
    state.open(base)
    state.mark_draft(Draft(base, "x"))
    assert state.deleted_elsewhere


@pytest.mark.parametrize(
    ("store", "dirty", "expected"),
    [
        ("same", False, Reconciled.SAME),
        ("same", True, Reconciled.SAME),
        ("newer", False, Reconciled.RELOAD),
        ("newer", True, Reconciled.CHANGED_KEPT),
        ("deleted", False, Reconciled.DELETED),
        ("deleted", True, Reconciled.DELETED_KEPT),
    ],
)
def test_a_reload_never_replaces_unsaved_edits(
    store: str, dirty: bool, expected: Reconciled
) -> None:
    state = loaded_state(item("plan", version=2))
    text = state.loaded_text + ("\n" if dirty else "")
    items = {"same": [item("plan", version=2)], "newer": [item("plan", version=3)], "deleted": []}
    state.apply_items(items[store], {})
    assert state.reconcile(text) is expected
    assert state.deleted_elsewhere is (expected is Reconciled.DELETED_KEPT)
    if expected is Reconciled.CHANGED_KEPT:
        assert state.store_item is not None and state.store_item.version == 3
        assert state.loaded is not None and state.loaded.version == 2  # the edit's base
    else:
        assert state.store_item is None


def test_a_save_moves_the_base_and_typing_since_stays_modified() -> None:
    state = loaded_state(item("plan", version=2))
    state.conflict_kept(item("plan", version=5))
    assert state.store_item is not None
    state.saved(item("plan", {"b": 2}, version=6), '{"b": 2}')
    assert state.loaded is not None and state.loaded.version == 6
    assert state.store_item is None and not state.deleted_elsewhere
    assert not state.is_dirty('{"b": 2}')
    assert state.is_dirty('{"b": 3}')


def test_after_a_conflict_keep_mine_overwrites_the_version_now_in_the_store() -> None:
    state = loaded_state(item("plan", version=2))
    state.conflict_kept(None)
    assert state.deleted_elsewhere and state.store_item is None
    assert expected_after_conflict(None) == 0
    assert expected_after_conflict(item("plan", version=7)) == 7


def test_rename_keeps_the_editor_and_keeps_keys_sorted() -> None:
    state = loaded_state(item("b"), item("c"))
    state.renamed("b", item("a", version=2))
    assert list(state.items) == ["a", "c"]
    assert state.loaded_key == "a"


def test_importance_and_add_update_items_without_touching_the_text() -> None:
    state = loaded_state(item("plan", {"x": 1}))
    text = state.loaded_text
    state.updated(item("plan", {"x": 1}, version=2, importance=0.9))
    state.updated(item("alpha"), sort=True)
    assert list(state.items) == ["alpha", "plan"]
    assert state.loaded is not None and state.loaded.importance == 0.9
    assert state.loaded_text == text


def test_removing_the_shown_key_says_so() -> None:
    state = loaded_state(item("a"), item("b"))
    assert not state.removed("b")
    assert state.removed("a")
    assert state.items == {}


def test_what_may_be_done_when() -> None:
    state = WorkingMemoryState()
    assert state.not_ready() == "Select a session first."
    state.switch_session("s1", "")
    assert state.not_ready() is None
    assert state.not_ready(need_key=True) == "Select a key first."
    assert state.save_refused() == "Nothing to save: select a key or press a to add one."
    state.supported = False
    assert state.not_ready() == "This backend has no working memory."


def test_a_large_value_is_read_only_and_says_why_once_per_version() -> None:
    big = item("blob", {"data": "x" * (LARGE_VALUE_CHARS + 10)})
    state = loaded_state(big)
    assert state.loaded_large is not None
    refused = state.save_refused()
    assert refused is not None and "read-only" in refused and "ctrl+e" in refused
    assert state.first_time_large(big)
    assert not state.first_time_large(big)
    assert state.first_time_large(item("blob", {"data": "y"}, version=2))


def test_the_load_workers_formatted_text_is_used() -> None:
    plan = item("plan", {"a": 1})
    state = WorkingMemoryState()
    state.switch_session("s1", "")
    shown = value_text({"a": 1})
    state.apply_items([plan], {("plan", 1): shown})
    assert state.open(plan) is shown


def test_descriptions() -> None:
    try:
        json.loads('{"a": }')
    except json.JSONDecodeError as error:
        assert describe_json_error(error).startswith("invalid JSON at line 1, column 7: ")
    result = CommitResult(
        memories_created=1,
        memories_deduplicated=0,
        memory_ids=["mem_1"],
        created_keys=["plan"],
        deduplicated_keys=[],
        skipped_keys=["scratch"],
    )
    assert describe_commit(result, 0.5) == (
        "Committed: 1 memory created (plan) · 0 deduplicated · "
        "1 skipped below importance 0.5 (scratch)"
    )
