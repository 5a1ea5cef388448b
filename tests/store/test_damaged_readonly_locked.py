"""Issue 8 item 12: stores that are damaged, read-only or locked, on real SQLite files
and real `memtui` processes.

- Damaged: a page in the middle of the file overwritten with garbage is found when the
  store opens; the CLI says so in one line (exit 2), `memtui serve` refuses to start,
  and nothing is written into the file.
- Read-only: a store on a read-only filesystem (a read-only bind mount in a private
  mount namespace: `unshare -m`, which needs root or user namespaces; skipped with the
  reason where neither is available) is listed and read; writes and an upgrade that
  would be needed are refused with one clear line.
- Locked: while another process holds the write lock, read commands answer at once
  (opening writes nothing), and a process holding the whole file (exclusive locking
  mode) is reported as such instead of a 30 s wait.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtui.domain.errors import BackendUnavailableError
from memtui.domain.models import NewMemory
from memtui.store import SqlStore, sqlite_file

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = 4096


def memtui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path) -> str:
    """A store with a few sessions and memories, closed (no -wal left)."""
    with SqlStore(f"sqlite:///{path}") as store:
        for number in range(3):
            session = store.create_session(f"agent{number}")
            store.add_memories(
                [NewMemory(session.agent_id, f"note {i}", session_id=session.id) for i in range(5)]
            )
    return session.id


def root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        [(page,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    return int(page)


def overwrite_page(path: Path, page: int) -> None:
    """Garbage over one whole page (1-based, as SQLite numbers them)."""
    garbage = random.Random(page).randbytes(PAGE)
    with path.open("r+b") as handle:
        handle.seek((page - 1) * PAGE)
        handle.write(garbage)


# --- damaged ----------------------------------------------------------------------------


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "damaged.db"
    make_store(path)
    pages = path.stat().st_size // PAGE
    page = root_page(path, "session")
    assert 2 < page < pages  # in the middle of the file
    overwrite_page(path, page)
    return path


def test_a_damaged_page_in_the_middle_is_found_on_open(damaged: Path) -> None:
    before = digest(damaged)
    with pytest.raises(BackendUnavailableError) as raised:
        SqlStore(f"sqlite:///{damaged}")
    message = str(raised.value)
    assert "is damaged" in message
    assert "\n" not in message
    assert digest(damaged) == before


def test_the_cli_refuses_a_damaged_store_in_one_line_and_writes_nothing(damaged: Path) -> None:
    before = digest(damaged)
    url = f"sqlite:///{damaged}"
    for command in (["sessions"], ["new", "someone"], ["context", "sess_x"]):
        result = memtui("--db", url, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert "is damaged" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""
    assert digest(damaged) == before


def test_the_server_refuses_to_start_on_a_damaged_store(damaged: Path) -> None:
    before = digest(damaged)
    result = memtui("serve", "--db", f"sqlite:///{damaged}", "--port", "0")
    assert result.returncode == 2
    assert "cannot open the store" in result.stderr and "is damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert digest(damaged) == before


def test_a_truncated_store_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "truncated.db"
    make_store(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    with pytest.raises(BackendUnavailableError, match="is damaged"):
        SqlStore(f"sqlite:///{path}")


def test_on_a_large_file_the_small_tables_are_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above QUICK_CHECK_MAX_BYTES only the tables that do not grow with the store are
    checked (a full quick_check of a large file costs seconds)."""
    monkeypatch.setattr(sqlite_file, "QUICK_CHECK_MAX_BYTES", 0)
    path = tmp_path / "large.db"
    make_store(path)
    SqlStore(f"sqlite:///{path}").close()  # intact: opens
    overwrite_page(path, root_page(path, "session"))
    with pytest.raises(BackendUnavailableError, match="is damaged"):
        SqlStore(f"sqlite:///{path}")


# --- read-only --------------------------------------------------------------------------


def _can_mount_read_only() -> str | None:
    """None if `unshare -m` with a read-only bind mount works here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"cannot make a read-only mount here: {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def read_only_mounts() -> None:
    reason = _can_mount_read_only()
    if reason is not None:
        pytest.skip(reason)


def on_read_only_fs(directory: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Runs argv with `directory` mounted read-only (only for that process)."""
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(directory), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def read_only_store(tmp_path: Path, read_only_mounts: None) -> Iterator[tuple[Path, str]]:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "store.db"
    session_id = make_store(path)
    yield path, session_id


def test_read_commands_work_on_a_read_only_filesystem(read_only_store: tuple[Path, str]) -> None:
    path, session_id = read_only_store
    before = digest(path)
    url = f"sqlite:///{path}"
    listed = on_read_only_fs(
        path.parent, sys.executable, "-m", "memtui", "--db", url, "sessions", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    assert session_id in {s["id"] for s in json.loads(listed.stdout)["sessions"]}
    context = on_read_only_fs(
        path.parent, sys.executable, "-m", "memtui", "--db", url, "context", session_id
    )
    assert context.returncode == 0, context.stderr
    assert "note 4" in context.stdout
    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.db"]


def test_writes_on_a_read_only_filesystem_are_refused_in_one_line(
    read_only_store: tuple[Path, str],
) -> None:
    path, _ = read_only_store
    url = f"sqlite:///{path}"
    result = on_read_only_fs(path.parent, sys.executable, "-m", "memtui", "--db", url, "new", "x")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "read-only" in result.stderr, result.stderr
    served = on_read_only_fs(
        path.parent, sys.executable, "-m", "memtui", "serve", "--db", url, "--port", "0"
    )
    assert served.returncode == 2
    assert "read-only" in served.stderr and "Traceback" not in served.stderr


def test_a_read_only_store_reads_commits_still_in_its_wal(
    tmp_path: Path, read_only_mounts: None
) -> None:
    """A copy taken while a writer had commits in the -wal (with its -shm): opened
    `mode=ro`, which reads them (immutable would not)."""
    source = tmp_path / "live.db"
    make_store(source)
    directory = tmp_path / "ro"
    directory.mkdir()
    writer = sqlite3.connect(source)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        with SqlStore(f"sqlite:///{source}") as store:
            late = store.create_session("late-agent")
            for suffix in ("", "-wal", "-shm"):
                shutil.copyfile(f"{source}{suffix}", directory / f"store.db{suffix}")
    finally:
        writer.close()
    assert (directory / "store.db-wal").stat().st_size > 0
    url = f"sqlite:///{directory / 'store.db'}"
    listed = on_read_only_fs(
        directory, sys.executable, "-m", "memtui", "--db", url, "sessions", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    assert late.id in {s["id"] for s in json.loads(listed.stdout)["sessions"]}


def test_an_old_schema_on_a_read_only_filesystem_is_a_clear_message(
    tmp_path: Path, read_only_mounts: None
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    shutil.copyfile(FIXTURES / "store_v1.db", directory / "store.db")
    url = f"sqlite:///{directory / 'store.db'}"
    result = on_read_only_fs(directory, sys.executable, "-m", "memtui", "--db", url, "sessions")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "schema version 1" in result.stderr and "read-only" in result.stderr


# --- locked -----------------------------------------------------------------------------

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive-mode":
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO schema_meta (key, value) VALUES ('held', 'by another process')")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
conn.execute("ROLLBACK")
"""


@pytest.fixture
def hold_lock(tmp_path: Path) -> Iterator[object]:
    holders: list[subprocess.Popen[str]] = []

    def hold(path: Path, how: str) -> None:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(path), how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"

    yield hold
    for holder in holders:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_read_commands_do_not_wait_for_another_processs_write_lock(
    tmp_path: Path, hold_lock
) -> None:
    """Opening used to write (and wait up to 30 s for the lock); now it only reads, and
    WAL readers never wait for a writer. The subprocess timeout is a hang guard."""
    path = tmp_path / "store.db"
    session_id = make_store(path)
    hold_lock(path, "write")
    url = f"sqlite:///{path}"
    listed = memtui("--db", url, "sessions", "--json", timeout=25)
    assert listed.returncode == 0, listed.stderr
    assert session_id in {s["id"] for s in json.loads(listed.stdout)["sessions"]}
    context = memtui("--db", url, "context", session_id, timeout=25)
    assert context.returncode == 0, context.stderr


def test_a_store_held_exclusively_is_reported_as_locked(tmp_path: Path, hold_lock) -> None:
    path = tmp_path / "store.db"
    make_store(path)
    hold_lock(path, "exclusive-mode")
    result = memtui("--db", f"sqlite:///{path}", "sessions", timeout=25)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "locked by another process" in result.stderr
