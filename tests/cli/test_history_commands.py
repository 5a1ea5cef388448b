"""memtui history, trash, restore, context --as-of and context diff: the real entry
point on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from memtui.domain.actor import acting_as
from memtui.domain.clock import ManualClock
from memtui.domain.models import MemoryPatch, NewMemory
from memtui.store import SqlStore
from tests.conftest import FROZEN_NOW


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def _fill(url: str) -> tuple[str, str]:
    clock = ManualClock(FROZEN_NOW - timedelta(hours=2))
    store = SqlStore(url, clock=clock)
    try:
        session = store.create_session("coder", session_id="sess_h", ttl=None)
        memory, other = store.add_memories(
            [
                NewMemory(agent_id="coder", session_id=session.id, content="use long expiry"),
                NewMemory(agent_id="coder", session_id=session.id, content="\x1b[2Jwiped"),
            ]
        )
        clock.advance(hours=1)
        with acting_as("tui"):
            store.update_memory(memory.id, MemoryPatch(content="use short expiry"))
        store.delete_memories([other.id])
        store.set_working_memory(session.id, "plan", [1])
        store.delete_working_memory(session.id, "plan")
    finally:
        store.close()
    return memory.id, other.id


def test_history_trash_restore(sqlite_url: str) -> None:
    memory_id, other_id = _fill(sqlite_url)
    done = run("history", "--memory", memory_id, "--db", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "updated  by tui" in done.stdout
    assert "use [-long-]{+short+} expiry" in done.stdout
    as_json = json.loads(run("history", "--memory", memory_id, "--json", "--db", sqlite_url).stdout)
    assert [r["action"] for r in as_json["revisions"]] == ["created", "updated"]

    trash = json.loads(run("trash", "--json", "--db", sqlite_url).stdout)
    assert [i["entity"] for i in trash["items"]] == ["working_memory", "memory"]
    assert trash["items"][1]["data"]["content"] == "\x1b[2Jwiped"  # exact in JSON
    listed = run("trash", "--db", sqlite_url)
    assert listed.returncode == 0 and "mcp" not in listed.stdout and "cli" in listed.stdout

    done = run("restore", other_id, "--db", sqlite_url)
    assert done.returncode == 0 and f"restored memory {other_id!r}" in done.stdout
    done = run("restore", "sess_h/plan", "--db", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(run("trash", "--json", "--db", sqlite_url).stdout)["count"] == 0
    missing = run("restore", "nothing-here", "--db", sqlite_url)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "nothing in the trash is 'nothing-here'" in missing.stderr


def test_context_as_of_and_diff(sqlite_url: str) -> None:
    _fill(sqlite_url)
    then = (FROZEN_NOW - timedelta(hours=1, minutes=30)).isoformat()
    done = run("context", "sess_h", "--as-of", then, "--db", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "use long expiry" in done.stdout and "wiped" in done.stdout
    now = run("context", "sess_h", "--db", sqlite_url)
    assert "use short expiry" in now.stdout and "wiped" not in now.stdout

    diff = json.loads(
        run("context", "diff", "sess_h", "--from", then, "--json", "--db", sqlite_url).stdout
    )
    # The edited memory is in both (by id); the deleted one left.
    assert [c["content"] for c in diff["left"]] == ["\x1b[2Jwiped"]
    assert diff["entered"] == []
    assert diff["token_delta"] == diff["tokens_after"] - diff["tokens_before"]
    text = run("--db", sqlite_url, "context", "diff", "sess_h", "--from", then)
    assert text.returncode == 0, text.stderr
    assert "SECTION" in text.stdout and "left (1)" in text.stdout

    budgets = run(
        "context",
        "diff",
        "sess_h",
        "--max-tokens",
        "12",
        "--to-max-tokens",
        "40",
        "--db",
        sqlite_url,
    )
    assert budgets.returncode == 0, budgets.stderr
    same = run("context", "diff", "sess_h", "--db", sqlite_url)
    assert same.returncode == 2 and "nothing to compare" in same.stderr
    bad = run("context", "sess_h", "--as-of", "someday", "--db", sqlite_url)
    assert bad.returncode == 2 and "someday" in bad.stderr


def test_compact_applies_the_retention(sqlite_url: str) -> None:
    _fill(sqlite_url)
    done = run("history", "--compact", "--json", "--db", sqlite_url)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # The fixture's writes are months before the real now: past the 30 days.
    assert data["retention_days"] == 30 and data["trash_purged"] == 2
    assert json.loads(run("trash", "--json", "--db", sqlite_url).stdout)["count"] == 0
