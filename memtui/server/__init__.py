"""`memtui serve`: a Memtrace-v1-compatible HTTP server with memtui's extensions.

`create_app(backend, key_store=..., clock=...)` builds the FastAPI app over any
`memtui.backend.Backend`; `memtui.commands.serve` runs it under uvicorn. FastAPI is imported
only when the app is built, so `memtui keys` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memtui.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from memtui.server.app import create_app

        return create_app
    raise AttributeError(name)
