"""`memtui serve`: a Memtrace-v1-compatible HTTP server with memtui's extensions.

`create_app(backend, key_store=..., clock=...)` builds the FastAPI app over any
`memtui.backend.Backend`; `memtui.server.cli` runs it under uvicorn.
"""

from __future__ import annotations

from memtui.server.app import create_app

__all__ = ["create_app"]
