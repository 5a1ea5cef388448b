"""`memtui context` as a subprocess on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from memtui.clipboard import NO_CLIPBOARD_MESSAGE
from memtui.domain.clock import FileClock, ManualClock
from memtui.domain.context import render_context
from memtui.domain.models import ContextRequest, NewMemory
from memtui.domain.tokens import count_tokens
from memtui.store import SqlStore
from tests.context.seed_memories import AGENT_ID, BASE, SESSION_ID, seed_memories

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def seeded_db(sqlite_url: str) -> str:
    store = SqlStore(sqlite_url, clock=ManualClock(BASE))
    try:
        store.create_session(AGENT_ID, session_id=SESSION_ID, ttl=None)
        store.add_memories(
            [
                NewMemory(
                    id=m.id,
                    time=m.time,
                    agent_id=m.agent_id,
                    session_id=m.session_id,
                    content=m.content,
                    memory_type=m.memory_type,
                    event_type=m.event_type,
                    importance=m.importance,
                )
                for m in seed_memories()
            ]
        )
    finally:
        store.close()
    return sqlite_url


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", "context", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def assert_clean_error(done: subprocess.CompletedProcess[bytes], fragment: str) -> None:
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert done.stdout == b""
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("memtui context: ")
    assert fragment in stderr


def test_prints_exactly_the_engines_markdown(seeded_db: str) -> None:
    done = run_cli(SESSION_ID, "--db", seeded_db)
    assert done.returncode == 0, done.stderr.decode()
    expected = (GOLDEN / "seed_desc.md").read_bytes()
    assert done.stdout == expected
    engine = render_context(SESSION_ID, seed_memories(), ContextRequest())
    assert done.stdout.decode() == engine.context
    assert done.stderr.decode() == f"{engine.token_count} tokens (cl100k_base), 11 memories\n"


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_max_tokens_is_honoured_on_stdout(seeded_db: str, encoding: str) -> None:
    done = run_cli(SESSION_ID, "--db", seeded_db, "--max-tokens", "60", "--encoding", encoding)
    assert done.returncode == 0, done.stderr.decode()
    markdown = done.stdout.decode()
    engine = render_context(
        SESSION_ID, seed_memories(), ContextRequest(max_tokens=60, encoding=encoding)
    )
    assert markdown == engine.context
    tokens = count_tokens(markdown, encoding)
    assert tokens == engine.token_count <= 60
    assert done.stderr.decode() == (
        f"{tokens} tokens ({encoding}, max 60), {engine.memory_count} memories, "
        f"{engine.omitted_count} omitted\n"
    )
    assert engine.omitted_count > 0


def test_types_and_order(seeded_db: str) -> None:
    done = run_cli(SESSION_ID, "--db", seeded_db, "--types", "decision, entity", "--order", "asc")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == (
        "## Session Context (sess_abc)\n\n"
        "### Decisions (2)\n"
        "- Decided to focus on product category A based on higher engagement\n"
        "- Chose to skip category B due to low quality data\n\n"
        "### Entities (3)\n"
        "- Product X: High engagement, trending topic\n"
        "- Product Y: Low stock, price increased 20%\n"
        "- Product Z: New release, positive reviews\n"
    )
    excluded = run_cli(SESSION_ID, "--db", seeded_db, "--exclude-types", "episodic,entity")
    headings = [line for line in excluded.stdout.decode().splitlines() if line.startswith("###")]
    assert headings == ["### Decisions (2)", "### Session Notes (1)", "### Tool Call (1)"]


def test_relative_since_counts_back_from_the_backend_clock(seeded_db: str, tmp_path: Path) -> None:
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(BASE + timedelta(minutes=16))
    done = run_cli(
        SESSION_ID, "--db", seeded_db, "--since", "8m", env={"MEMTUI_CLOCK_FILE": clock.path}
    )
    assert done.returncode == 0, done.stderr.decode()
    bullets = [line for line in done.stdout.decode().splitlines() if line.startswith("- ")]
    # Memories at minutes 8..15 of the seed: e3, d2, s1, r1 (error), t1.
    assert len(bullets) == 5
    assert "Crawled" not in done.stdout.decode()
    until = run_cli(SESSION_ID, "--db", seeded_db, "--until", "2026-03-14T10:03:00Z")
    assert until.stdout.decode().count("\n- ") == 3  # minutes 0, 2 and 3


def test_bad_since_exits_2_naming_the_value(seeded_db: str) -> None:
    assert_clean_error(
        run_cli(SESSION_ID, "--db", seeded_db, "--since", "4 hours"), "invalid since '4 hours'"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--types", "episodic,foo"), "unknown memory type 'foo' in include_types"),
        (("--max-tokens", "0"), "invalid max_tokens 0"),
        (("--until", "yesterday"), "invalid until 'yesterday'"),
    ],
)
def test_other_bad_input_exits_2(seeded_db: str, args: tuple[str, ...], fragment: str) -> None:
    assert_clean_error(run_cli(SESSION_ID, "--db", seeded_db, *args), fragment)


def test_unknown_session_and_bad_db_are_clean_errors(seeded_db: str) -> None:
    assert_clean_error(run_cli("sess_missing", "--db", seeded_db), "sess_missing")
    assert_clean_error(run_cli(SESSION_ID, "--db", "mysql://nope"), "invalid database URL")


def test_copy_without_a_clipboard_says_so_and_exits_nonzero(seeded_db: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "context", SESSION_ID, "--db", seeded_db, "--copy"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2  # an error, as for every CLI error
    assert NO_CLIPBOARD_MESSAGE in stderr
    assert "Traceback" not in stderr
    # The context still reached stdout, so a pipe gets it even when the copy fails.
    assert done.stdout == (GOLDEN / "seed_desc.md").read_bytes()


@pytest.mark.parametrize("max_tokens", [None, 700])
def test_demo_session_matches_the_engine(sqlite_url: str, max_tokens: int | None) -> None:
    """On the demo data: the CLI prints what the engine makes of the session's memories
    (the store hands them over in priority order; the engine here sorts them itself)."""
    from memtui.demo import populate_demo
    from memtui.domain.models import MemoryQuery

    populate_demo(sqlite_url, now=BASE)
    session_id = "sess_demo_auth_refactor"
    store = SqlStore(sqlite_url, clock=ManualClock(BASE))
    try:
        memories = []
        page = store.list_memories(MemoryQuery(session_id=session_id, limit=1000))
        memories.extend(page.memories)
        assert not page.has_more
    finally:
        store.close()
    request = ContextRequest(max_tokens=max_tokens, order="asc")
    engine = render_context(session_id, memories, request)

    args = [session_id, "--db", sqlite_url, "--order", "asc"]
    if max_tokens is not None:
        args += ["--max-tokens", str(max_tokens)]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == engine.context
    assert count_tokens(done.stdout.decode()) == engine.token_count
    if max_tokens is not None:
        assert engine.token_count <= max_tokens and engine.omitted_count > 0
    else:
        assert engine.memory_count == len(memories) > 50
        assert "### Errors (" in engine.context
