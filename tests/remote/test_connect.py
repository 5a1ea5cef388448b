"""How `--server`/`--api-key`, MEMTUI_SERVER/MEMTUI_API_KEY and the config file's
`server`/`api_key` choose the HTTP backend (memtui.connect)."""

from __future__ import annotations

import pytest

from memtui.config import update_config
from memtui.connect import open_backend, resolve_target
from memtui.domain.clock import ManualClock
from memtui.remote import HttpBackend

KEY = "mtk_" + "a1" * 20


def test_flags_choose_the_server_and_key() -> None:
    target = resolve_target(server="http://127.0.0.1:9100", api_key=KEY)
    assert target.is_remote
    assert (target.server_url, target.api_key) == ("http://127.0.0.1:9100", KEY)


def test_environment_chooses_the_server_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMTUI_SERVER", "http://127.0.0.1:9200")
    monkeypatch.setenv("MEMTUI_API_KEY", KEY)
    target = resolve_target()
    assert (target.server_url, target.api_key) == ("http://127.0.0.1:9200", KEY)


def test_config_file_chooses_the_server_and_key() -> None:
    update_config(server="http://127.0.0.1:9300", api_key=KEY)
    target = resolve_target()
    assert (target.server_url, target.api_key) == ("http://127.0.0.1:9300", KEY)


def test_flag_beats_environment_beats_config(monkeypatch: pytest.MonkeyPatch) -> None:
    update_config(server="http://config:1", api_key="mtk_config")
    monkeypatch.setenv("MEMTUI_SERVER", "http://env:2")
    assert resolve_target().server_url == "http://env:2"
    assert resolve_target().api_key == "mtk_config"  # key from the config file still applies
    monkeypatch.setenv("MEMTUI_API_KEY", "mtk_env")
    assert resolve_target().api_key == "mtk_env"
    target = resolve_target(server="http://flag:3", api_key="mtk_flag")
    assert (target.server_url, target.api_key) == ("http://flag:3", "mtk_flag")


def test_db_flag_wins_over_a_configured_server() -> None:
    update_config(server="http://127.0.0.1:9300", api_key=KEY)
    target = resolve_target(db="sqlite:///x.db")
    assert not target.is_remote
    assert target.db_url == "sqlite:///x.db"


def test_open_backend_builds_an_http_backend_with_the_clock_and_masked_key(
    clock: ManualClock,
) -> None:
    backend = open_backend(resolve_target(server="http://127.0.0.1:9100", api_key=KEY), clock=clock)
    try:
        assert isinstance(backend, HttpBackend)
        assert backend.now() == clock.now
        assert backend.describe() == "http://127.0.0.1:9100 (key mtk_a1a1…)"
    finally:
        backend.close()
