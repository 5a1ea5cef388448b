"""Layering at run time: what importing a module really loads. The domain and the store
never pull in the UI; the CLI entry point stays light (so `memtui --version` is fast).
Which memtui layer may import which is checked statically by `lint-imports` (the
contracts in pyproject.toml, run by .ci/run)."""

from __future__ import annotations

import json
import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


DOMAIN_MODULES = [
    "memtui.domain.models",
    "memtui.domain.errors",
    "memtui.domain.clock",
    "memtui.domain.expiry",
    "memtui.domain.timewindow",
    "memtui.domain.tokens",
    "memtui.domain.context",
    "memtui.domain.safe_text",
    "memtui.domain.filters",
    "memtui.domain.actor",
    "memtui.domain.views",
    "memtui.domain.validation",
    "memtui.domain.commit",
    "memtui.domain.briefing",
]


def test_domain_and_protocol_import_neither_ui_nor_sql_nor_http() -> None:
    # One fresh interpreter for all of them: any one importing textual would show.
    loaded = _top_level(_modules_after("import " + ", ".join([*DOMAIN_MODULES, "memtui.backend"])))
    assert not {"textual", "sqlmodel", "sqlalchemy", "httpx", "fastapi"} & loaded


def test_store_with_demo_does_not_import_textual() -> None:
    loaded = _top_level(_modules_after("from memtui.store import SqlStore; import memtui.demo"))
    assert "textual" not in loaded and "sqlmodel" in loaded


def test_cli_entry_point_is_light() -> None:
    loaded = _top_level(_modules_after("import memtui.cli; memtui.cli.build_parser()"))
    heavy = {"textual", "sqlmodel", "sqlalchemy", "httpx", "tiktoken", "mcp", "pydantic", "anyio"}
    assert not heavy & loaded


def test_the_mcp_server_and_the_pane_commands_talk_only_to_the_backend() -> None:
    """Neither knows which store or client it runs on: no SQL, HTTP client or UI."""
    modules = [
        "memtui.mcp.server",
        "memtui.mcp.stdio",
        "memtui.search",
        *(
            f"memtui.commands.{name}"
            for name in ("memories", "search", "wm", "snapshots", "briefing", "lifecycle", "mcp")
        ),
    ]
    loaded = _top_level(_modules_after("import " + ", ".join(modules)))
    assert not {"textual", "sqlmodel", "sqlalchemy", "httpx", "fastapi", "tiktoken"} & loaded
