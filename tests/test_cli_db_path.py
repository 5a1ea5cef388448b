"""A typo'd `--db` path is an error that creates nothing (issue 9, item 4); only the
default store's directory is created for the user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.pty_run import PtyApp


def memtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    "command",
    [["sessions"], ["demo"], ["context", "sess_x"], ["keys", "list"], ["serve", "--port", "0"]],
    ids=lambda c: " ".join(c),
)
def test_a_missing_directory_in_db_is_one_line_exit_2_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    done = memtui(*command, "--db", f"sqlite:///{missing / 'x.db'}")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(missing) in lines[0] and "does not exist" in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "nonexistent").exists()


def test_a_missing_directory_from_the_environment_is_refused_too(tmp_path: Path) -> None:
    env = dict(os.environ, MEMTUI_DB=f"sqlite:///{tmp_path / 'typo' / 'x.db'}")
    done = memtui("sessions", env=env)
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert not (tmp_path / "typo").exists()


def test_the_default_store_and_its_directory_are_still_created(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data" / "dir"
    env = dict(os.environ, MEMTUI_DATA_DIR=str(data))
    done = memtui("sessions", env=env)
    assert done.returncode == 0, done.stderr
    assert (data / "memtui.db").is_file()


def test_an_existing_directory_still_gets_a_new_store(tmp_path: Path) -> None:
    done = memtui("sessions", "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new.db").is_file()


def test_the_tui_says_so_and_exits_2_creating_nothing(tmp_path: Path) -> None:
    """The real app in a terminal: the message is on screen, and after `q` the shell
    gets exit code 2 and the message as the last line."""
    missing = tmp_path / "nonexistent" / "dir"
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    with PtyApp(["--db", f"sqlite:///{missing / 'x.db'}"], env=env) as app:
        app.wait_for("Cannot open the store")
        app.send("q")
        assert app.wait() == 2
        last = app.screen_text().strip().splitlines()[-1]
    assert "memtui: Cannot open the store: the directory" in last
    assert str(missing) in last and "does not exist" in last
    assert not (tmp_path / "nonexistent").exists()
