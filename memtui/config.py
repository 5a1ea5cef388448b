"""User configuration and where memtui keeps its files.

Kept free of heavy imports: `memtui --version` and `--help` pass through here.
Environment overrides (tests use them): MEMTUI_CONFIG_DIR, MEMTUI_DATA_DIR,
MEMTUI_DB, MEMTUI_SERVER, MEMTUI_API_KEY.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

APP_NAME = "memtui"
CONFIG_FILE_NAME = "config.json"
DEFAULT_DB_FILE_NAME = "memtui.db"
# Everything memtui writes may hold memories or an API key: owner-only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


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


def make_private_dir(path: Path) -> None:
    """Creates `path` 0700 if it is missing (its missing parents get the usual modes:
    they are shared places like ~/.local/share). An existing directory is left as the
    user made it."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise


def write_private_text(path: Path, text: str) -> None:
    """Replaces `path` atomically with `text`, as a 0600 file: the temporary file is
    created 0600 (mkstemp) before anything is written into it, then renamed over
    `path`, so the content is never readable by others, not even for a moment, and a
    rewrite never widens the mode. Its directory is created 0700 if missing."""
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def update_config(**values: Any) -> None:
    """Merge `values` into the config file, written atomically, 0600 (it may hold an
    api_key)."""
    data = load_config()
    data.update(values)
    write_private_text(config_path(), json.dumps(data, indent=2, sort_keys=True) + "\n")


def mask_secret(secret: str | None, *, keep: int = 4) -> str:
    """`mtk_9f3a…` style: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    if len(secret) <= keep + 4:
        return "…"
    prefix = secret[: secret.index("_") + 1] if "_" in secret[:8] else ""
    body = secret[len(prefix) :]
    return f"{prefix}{body[:keep]}…"
