"""User configuration and where memtui keeps its files.

Kept free of heavy imports: `memtui --version` and `--help` pass through here.
Environment overrides (tests use them): MEMTUI_CONFIG_DIR, MEMTUI_DATA_DIR,
MEMTUI_DB, MEMTUI_SERVER, MEMTUI_API_KEY.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

APP_NAME = "memtui"
CONFIG_FILE_NAME = "config.json"
DEFAULT_DB_FILE_NAME = "memtui.db"


def config_dir() -> Path:
    override = os.environ.get("MEMTUI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    override = os.environ.get("MEMTUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    override = os.environ.get("MEMTUI_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def default_db_path() -> Path:
    """The default store's file: the only database whose directory memtui creates."""
    return data_dir() / DEFAULT_DB_FILE_NAME


def default_db_url() -> str:
    """A SQLite file in the user's data directory (created on first use)."""
    return f"sqlite:///{default_db_path()}"


def config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def load_config() -> dict[str, Any]:
    """The config file's contents; {} if it is missing or unreadable."""
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_config(**values: Any) -> None:
    """Merge `values` into the config file, written atomically."""
    data = load_config()
    data.update(values)
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def mask_secret(secret: str | None, *, keep: int = 4) -> str:
    """`mtk_9f3a…` style: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    if len(secret) <= keep + 4:
        return "…"
    prefix = secret[: secret.index("_") + 1] if "_" in secret[:8] else ""
    body = secret[len(prefix) :]
    return f"{prefix}{body[:keep]}…"
