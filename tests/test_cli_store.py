"""`memtui demo` and `memtui sessions` as a user runs them: real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_memtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or dict(os.environ),
    )


def test_demo_twice_gives_the_same_counts_and_sessions_lists_them(sqlite_url: str) -> None:
    first = run_memtui("demo", "--db", sqlite_url)
    second = run_memtui("--db", sqlite_url, "demo")  # the global --db works too

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "added now: 9 sessions" in first.stdout
    assert "nothing added" in second.stdout
    counts = [line for line in first.stdout.splitlines() if line.strip()[0].isdigit()]
    assert counts == [line for line in second.stdout.splitlines() if line.strip()[0].isdigit()]
    assert len(counts) == 2

    table = run_memtui("sessions", "--db", sqlite_url)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["AGENT", "SESSION", "STATUS", "TIME"]
    assert any("sess_demo_ticket_4821" in line and "active" in line for line in lines)
    assert any("never" in line for line in lines)
    assert any("expired" in line and "ago" in line for line in lines)

    listed = run_memtui("sessions", "--db", sqlite_url, "--json", "--status", "expired")
    assert listed.returncode == 0, listed.stderr
    payload = json.loads(listed.stdout)
    assert payload["count"] == len(payload["sessions"]) == 2
    assert {s["status"] for s in payload["sessions"]} == {"expired"}
    assert all(s["seconds_left"] < 0 for s in payload["sessions"])


def test_sessions_on_the_default_store(isolated_dirs: Path) -> None:
    result = run_memtui("sessions")
    assert result.returncode == 0, result.stderr
    assert "No sessions" in result.stdout
    assert (isolated_dirs / "data" / "memtui.db").is_file()


@pytest.mark.parametrize("command", ["sessions", "demo"])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("bogus://", "invalid database URL"),
        ("postgresql+psycopg://me:s3cret@127.0.0.1:1/none", "cannot connect"),
    ],
)
def test_bad_db_gives_one_clean_line(command: str, url: str, expected: str) -> None:
    result = run_memtui("--db", url, command)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_corrupt_database_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"\x00garbage" * 500)
    result = run_memtui("sessions", "--db", f"sqlite:///{path}")
    assert result.returncode == 2
    assert "corrupt" in result.stderr and "Traceback" not in result.stderr


def test_a_reader_closing_the_pipe_early_is_not_an_error(sqlite_url: str) -> None:
    from memtui.store import SqlStore

    store = SqlStore(sqlite_url)
    for number in range(200):  # well over a pipe buffer (64 KiB) of JSON
        store.create_session("piped-agent", metadata={"note": f"{number} " + "x" * 600})
    store.close()
    # `memtui sessions --json | head -1`: the reader goes away after one line.
    writer = subprocess.Popen(
        [sys.executable, "-m", "memtui", "sessions", "--db", sqlite_url, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.readline()
    writer.stdout.close()
    stderr = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 0
    assert stderr == ""
