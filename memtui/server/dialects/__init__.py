"""Server dialects: the session APIs of the other seed systems, each on its own base
path, over the same Backend (and so the same store, change feed and TUI) as Memtrace v1.

| dialect | base path | package |
|---|---|---|
| Memanto (seed 001) | `/api/v2` | `dialects/memanto/` |
| MemoryLayer (seed 002) | `/v1` | `dialects/memorylayer/` |
| AINative ZeroMemory (seed 003) | `/api/v1/public/memory/v2/session` | `dialects/zeromemory/` |

Each package holds its routes, request/response schemas and, where the system documents
its own error shape, a shaper (memtui.server.error_shapes). Routes call only the Backend
protocol; the systems' rules (Memanto's extend adds hours, MemoryLayer's touch never
shortens…) live in `memtui.domain.dialects`. A dialect is one `Dialect` entry in
`DIALECTS`; `create_app` mounts them all, `/health` lists them and `/openapi.json` tags
each route with its dialect's tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from memtui.backend import KeyStore
from memtui.server.error_shapes import Shaper
from memtui.server.routes.common import ServerContext

MEMTRACE_BASE = "/api/v1"


@dataclass(frozen=True)
class DialectContext:
    """What a dialect's routes get: the Backend (in `server`) and the key store (API
    keys, and the server's signing secrets)."""

    server: ServerContext
    key_store: KeyStore


@dataclass(frozen=True)
class Dialect:
    name: str  # as /health lists it
    system: str  # the real system it speaks
    base_path: str
    tag: str  # the /openapi.json tag of its routes
    router: Callable[[DialectContext], APIRouter]  # routes relative to base_path
    error_shaper: Shaper | None = None  # None: memtui's {"error": ...}
    # The errors every route may answer, for /openapi.json (None: memtui's COMMON_ERRORS).
    common_errors: dict[int | str, dict[str, Any]] | None = field(default=None)


def dialects() -> tuple[Dialect, ...]:
    """Every dialect `memtui serve` speaks besides Memtrace v1."""
    from memtui.server.dialects import memanto, memorylayer, zeromemory

    return (memanto.DIALECT, memorylayer.DIALECT, zeromemory.DIALECT)


def health_entries(served: tuple[Dialect, ...]) -> list[dict[str, str]]:
    """/health's `dialects`: Memtrace v1 first, then the others."""
    entries = [{"name": "memtrace", "system": "Memtrace v1", "base_path": MEMTRACE_BASE}]
    entries += [{"name": d.name, "system": d.system, "base_path": d.base_path} for d in served]
    return entries
