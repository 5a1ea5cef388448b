"""Fixtures for the dialect tests: real `memtui serve` processes (one per module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.live_server import LiveServer, start_live_server

SEED_EXAMPLES = Path(__file__).resolve().parent / "seed_examples"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server shared by one test module, on its own SQLite file."""
    db = tmp_path_factory.mktemp("dialects") / "served.db"
    with start_live_server(f"sqlite:///{db}") as live:
        yield live


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts servers for one test (stopped afterwards); kwargs go to start_live_server."""
    started: list[LiveServer] = []

    def start(db_url: str | None = None, **kwargs: Any) -> LiveServer:
        live = start_live_server(db_url or f"sqlite:///{tmp_path / 'own.db'}", **kwargs)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


def seed_example(name: str, replacements: dict[str, str]) -> str:
    """A seed document's example from seed_examples/, with only its base URL and key
    replaced (each replacement must occur: the example is the seed's own text)."""
    text = (SEED_EXAMPLES / name).read_text("utf-8")
    for old, new in replacements.items():
        assert old in text, f"{name} no longer contains {old!r}"
        text = text.replace(old, new)
    return text
