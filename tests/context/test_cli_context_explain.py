"""`memtui context SESSION --explain [--json]` as a subprocess on a real SQLite file."""

from __future__ import annotations

import json

from memtui.domain.clock import ManualClock
from memtui.domain.models import ContextRequest, NewMemory
from memtui.store import SqlStore
from tests.context.seed_memories import BASE, SESSION_ID
from tests.context.test_cli_context import assert_clean_error, run_cli, seeded_db

__all__ = ["seeded_db"]  # the fixture, used by name


def test_json_matches_the_context_and_adds_up(seeded_db: str) -> None:
    done = run_cli(SESSION_ID, "--explain", "--json", "--max-tokens", "60", "--db", seeded_db)
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    store = SqlStore(seeded_db, clock=ManualClock(BASE))
    try:
        built = store.build_context(SESSION_ID, ContextRequest(max_tokens=60))
    finally:
        store.close()
    assert data["token_count"] == built.token_count
    assert data["memory_count"] == built.memory_count
    assert data["header_tokens"] + sum(s["tokens"] for s in data["sections"]) == built.token_count
    assert data["omitted_count"] == data["candidate_count"] - data["memory_count"] > 0
    included = [c for c in data["candidates"] if c["included"]]
    assert all(c["content"] in built.context for c in included)
    assert data["next_raise"]["tokens"] > 0 and data["next_raise"]["memories"] >= 1


def test_text_names_reasons_sections_and_the_raise(seeded_db: str) -> None:
    done = run_cli(SESSION_ID, "--explain", "--max-tokens", "60", "--db", seeded_db)
    assert done.returncode == 0, done.stderr.decode()
    text = done.stdout.decode()
    assert "SECTION" in text and "total" in text
    assert "did_not_fit" in text or "not_reached" in text
    assert "raise the budget by " in text and "to include the next " in text


def test_hostile_content_reaches_a_pipe_exactly(
    sqlite_url: str,
) -> None:
    store = SqlStore(sqlite_url, clock=ManualClock(BASE))
    try:
        session = store.create_session("a", ttl=None)
        store.add_memories(
            [
                NewMemory(
                    agent_id="a",
                    session_id=session.id,
                    content="\x1b[2Jwiped",
                    time=BASE,
                    memory_type="entity",
                )
            ]
        )
    finally:
        store.close()
    done = run_cli(session.id, "--explain", "--types", "decision", "--db", sqlite_url)
    assert done.returncode == 0, done.stderr.decode()
    assert "type_not_included" in done.stdout.decode()
    assert b"\x1b[2Jwiped" in done.stdout  # a pipe gets the stored text exactly
    as_json = run_cli(session.id, "--explain", "--json", "--db", sqlite_url)
    assert json.loads(as_json.stdout)["candidates"][0]["content"] == "\x1b[2Jwiped"


def test_errors_are_one_line(seeded_db: str) -> None:
    assert_clean_error(run_cli("sess_nope", "--explain", "--db", seeded_db), "sess_nope")
    assert_clean_error(
        run_cli(SESSION_ID, "--explain", "--since", "soonish", "--db", seeded_db), "soonish"
    )
    assert_clean_error(run_cli(SESSION_ID, "--json", "--db", seeded_db), "--explain")
