"""Issue 8 item 6: every file memtui creates is 0600 and every directory 0700, under the
usual 022 umask, and a rewrite keeps it so: the SQLite store with its -wal and -shm
files, the default store's directory, config.json (rewritten on a theme change; it
may hold an api_key) and the TUI's session cache. Files a user made themselves keep
the mode they chose."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtui.config import config_path, load_config, update_config
from memtui.domain.models import NewMemory, Session
from memtui.store import SqlStore
from memtui.tui.session_cache import cache_file, read_cached_sessions, write_cached_sessions


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """What most shells run with: files 0644 and directories 0755 unless asked."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_store_and_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        session = store.create_session("agent")
        store.add_memories([NewMemory(session.agent_id, "x", session_id=session.id)])
        # The files exist while the store is open (WAL mode).
        created = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(p.exists() for p in created)
        assert {str(p.name): oct(mode(p)) for p in created} == {p.name: "0o600" for p in created}
    finally:
        store.close()
    assert oct(mode(path)) == "0o600"


def test_the_default_store_directory_is_created_0700(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "share" / "memtui"
    monkeypatch.setenv("MEMTUI_DATA_DIR", str(data))
    with SqlStore() as store:
        store.create_session("agent")
    assert oct(mode(data)) == "0o700"
    assert oct(mode(data / "memtui.db")) == "0o600"
    # Its parents are shared places (~/.local/share): the usual modes.
    assert oct(mode(data.parent)) == "0o755"


def test_the_cli_creates_its_store_0600(tmp_path: Path) -> None:
    """A real `memtui` process with a 022 umask (inherited from this test)."""
    path = tmp_path / "cli.db"
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", f"sqlite:///{path}", "sessions"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert oct(mode(path)) == "0o600"
    for suffix in ("-wal", "-shm"):  # removed at a clean close, if SQLite could
        side = Path(f"{path}{suffix}")
        if side.exists():
            assert oct(mode(side)) == "0o600"


def test_a_store_file_the_user_made_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch()
    path.chmod(0o640)
    with SqlStore(f"sqlite:///{path}") as store:
        store.create_session("agent")
    assert oct(mode(path)) == "0o640"


def test_config_rewrite_on_a_theme_change_is_0600_and_its_directory_0700(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config" / "memtui"
    monkeypatch.setenv("MEMTUI_CONFIG_DIR", str(config_dir))
    update_config(server="http://127.0.0.1:9300", api_key="mtk_secret")
    assert oct(mode(config_dir)) == "0o700"
    assert oct(mode(config_path())) == "0o600"
    # A config.json written by hand with the umask's mode, then rewritten by the TUI.
    config_path().write_text(json.dumps({"api_key": "mtk_secret"}), encoding="utf-8")
    config_path().chmod(0o644)
    update_config(theme="nord")
    assert oct(mode(config_path())) == "0o600"
    assert load_config() == {"api_key": "mtk_secret", "theme": "nord"}
    assert [p.name for p in config_dir.iterdir()] == ["config.json"]  # no temp file left


async def test_the_tui_theme_change_rewrites_the_config_0600(tmp_path: Path) -> None:
    """The app's own theme switch (what the issue saw rewrite config.json 0644)."""
    from memtui.tui.app import MemtuiApp

    config_path().write_text(json.dumps({"api_key": "mtk_secret"}), encoding="utf-8")
    config_path().chmod(0o644)
    with SqlStore(f"sqlite:///{tmp_path / 'tui.db'}") as store:
        app = MemtuiApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            app.theme = "nord"
            await pilot.pause()
    assert load_config()["theme"] == "nord"
    assert oct(mode(config_path())) == "0o600"


def test_the_session_cache_is_0600_in_a_0700_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache" / "memtui"
    monkeypatch.setenv("MEMTUI_CACHE_DIR", str(cache_dir))
    with SqlStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        session: Session = store.create_session("agent")
    write_cached_sessions("target", [session])
    write_cached_sessions("target", [session, session])  # a rewrite
    assert oct(mode(cache_dir)) == "0o700"
    assert oct(mode(cache_file("target"))) == "0o600"
    assert read_cached_sessions("target") == [session, session]
