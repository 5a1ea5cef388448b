"""Which shape an error body takes, by the path it answers.

memtui's own routes (and Memtrace v1's) answer `{"error": "...", "field"?: ...}`. A
server dialect that documents another shape (MemoryLayer's `{error, message, details}`)
registers a shaper for its base path; the error handlers, the API guard (401, 413…) and
the 404 for an unknown route all go through `ErrorShapes.shape`, so every error under a
dialect's base path comes back in that dialect's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (status, memtui's error body) -> the body to send
Shaper = Callable[[int, dict[str, Any]], dict[str, Any]]


def under(path: str, prefix: str) -> bool:
    """True when `path` is `prefix` or below it (`/v1/x` is under `/v1`, `/v10` is not)."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


class ErrorShapes:
    def __init__(self) -> None:
        self._shapers: list[tuple[str, Shaper]] = []

    def add(self, prefix: str, shaper: Shaper) -> None:
        self._shapers.append((prefix, shaper))
        # The longest prefix wins where base paths nest.
        self._shapers.sort(key=lambda item: len(item[0]), reverse=True)

    def shape(self, path: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
        for prefix, shaper in self._shapers:
            if under(path, prefix):
                return shaper(status, body)
        return body
