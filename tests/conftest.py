"""Fixtures shared by every test package.

Every test runs with its own config, data and cache directories, so nothing touches
the developer's real store or config.
"""

from __future__ import annotations

import compileall
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from memtui.domain.clock import ManualClock

# Deterministic property tests: the same examples on every run and machine (derandomize
# seeds each test from its own source), and no example database carried between runs,
# so CI never fails by chance. A test's own @settings still override max_examples etc.
settings.register_profile("memtui", derandomize=True, database=None, print_blob=True)
settings.load_profile("memtui")

# The real MemoryLayer server and client (a cached Python 3.12 venv): fixtures
# `memorylayer_venv`, `memorylayer_server`, `memorylayer_server_factory`.
pytest_plugins = ["tests.helpers.memorylayer"]

# The instant every frozen clock starts at; snapshots depend on it.
FROZEN_NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile memtui once before the run (in the xdist controller, or the only
    process). Hundreds of tests start `python -m memtui` processes; with
    PYTHONDONTWRITEBYTECODE set (as on the CI machines) each of them would otherwise
    compile all of memtui from source again (~0.15 s of CPU each)."""
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(REPO / "memtui", quiet=1)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "memtui-home"
    for name in ("config", "data", "cache"):
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("MEMTUI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("MEMTUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("MEMTUI_CACHE_DIR", str(home / "cache"))
    for name in ("MEMTUI_DB", "MEMTUI_SERVER", "MEMTUI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture(scope="session", autouse=True)
def steady_text_cursors() -> Iterator[None]:
    """Text cursors stay visible instead of blinking every 0.5 s.

    A focused TextArea or Input flips its cursor on a 0.5 s timer, so a snapshot taken
    more than 0.5 s after focus (any loaded machine) showed the cursor cell in other
    colours. Blinking is only a timer toggling `_cursor_visible`; without it the cursor
    shows exactly as right after focus, which is what the snapshots hold.
    """
    from textual.widgets import Input, TextArea

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)
        patch.setattr(Input, "_toggle_cursor", lambda self: None)
        yield


@pytest.fixture
def clock() -> ManualClock:
    """A clock frozen at FROZEN_NOW that a test can advance by hand."""
    return ManualClock(FROZEN_NOW)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A real SQLite file, fresh per test."""
    return f"sqlite:///{tmp_path / 'store.db'}"
