"""memtui serve's logging: uvicorn's and memtui's loggers, every line redacted, so no
secret (API key in any encoding, bearer token, JWT, secret-named value) is ever logged."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("memtui.server")


# Anything that looks like a secret is masked in every log line, whatever logged it:
# API keys in any form a URL or header can carry them (`mtk_…`, percent-encoded once or
# twice as in `mtk%5F…` or `mtk%255F…`, any case), bearer tokens, JWTs (seed 001's
# session tokens) and `key=value` / `key: value` pairs named like secrets.
_KEY_START = r"(?:m|%(?:25)*6d)(?:t|%(?:25)*74)(?:k|%(?:25)*6b)(?:_|%(?:25)*5f|\\u005f|\\x5f)"


_SECRET_PATTERNS = (
    re.compile(_KEY_START + r"[A-Za-z0-9_\-=%]*", re.IGNORECASE),
    re.compile(r"(?i)(bearer(?:\s|%20|\+)+)[^\s\"'&]+"),
    re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    re.compile(
        r"(?i)((?:x-)?(?:api(?:[_-]|%5f|%2d)?key|token|password|secret)"
        r"(?:=|%3d|\s*:\s*|\"\s*:\s*\"))[^&\s\"',;]+"
    ),
)


def redact(text: str) -> str:
    """`text` with every secret-looking part masked (for log lines)."""
    text = _SECRET_PATTERNS[0].sub("mtk_…", text)
    text = _SECRET_PATTERNS[1].sub(r"\1…", text)
    text = _SECRET_PATTERNS[2].sub("…", text)
    return _SECRET_PATTERNS[3].sub(r"\1…", text)


def _redacting(base: type[logging.Formatter]) -> type[logging.Formatter]:
    class Redacting(base):  # type: ignore[valid-type, misc]
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

        def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
            return redact(super().formatException(ei))

    return Redacting


def log_config() -> dict[str, Any]:
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {
                "()": _redacting(DefaultFormatter),
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": False,
            },
            "access": {
                "()": _redacting(AccessFormatter),
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "memtui": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
        # Any other library's warnings go through the same redacting handler, not
        # through logging's bare last-resort handler.
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
