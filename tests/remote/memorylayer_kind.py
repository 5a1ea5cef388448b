"""The "memorylayer" backend kind of the contract suite: `MemoryLayerBackend` against a
real `memorylayer-server` 0.2.0 (tests/helpers/memorylayer.py).

One server per test process (the session-scoped `memorylayer_server`); before every
test its workspaces are deleted (that deletes their sessions, working memory and
memories) and the default workspace's sessions and memories too, so each test starts
empty. MemoryLayer keeps its own time, so the clock is the real one: tests that move
the clock say so with `requires(TEST_CLOCK)` and are left out for this kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from memtui.backend import Backend
from memtui.domain.clock import utc_now
from tests.helpers.requirements import NoTestClock

# The workspaces the server makes for itself; they stay (emptied of sessions).
SYSTEM_WORKSPACES = ("_default", "_global", "_global_user")


class RealClock:
    """The wall clock, shaped like the tests' clocks. MemoryLayer cannot follow a test
    clock, so moving it is a mistake in the test's requirements, said loudly."""

    def __call__(self) -> datetime:
        return utc_now()

    @property
    def now(self) -> datetime:
        return utc_now()

    def advance(self, **delta: float) -> None:
        raise NoTestClock(f"cannot move a real MemoryLayer server's clock by {timedelta(**delta)}")


def make_memorylayer_clock(_tmp_path: Path, _start: datetime) -> RealClock:
    return RealClock()


def wipe_server(url: str) -> None:
    """Delete every workspace but the server's own, and empty those."""
    with httpx.Client(base_url=url, timeout=30.0) as http:
        workspaces = http.get("/v1/workspaces").json()["workspaces"]
        for workspace in workspaces:
            wid = workspace["id"]
            if wid not in SYSTEM_WORKSPACES:
                http.delete(f"/v1/workspaces/{wid}").raise_for_status()
                continue
            scope = {"X-Workspace-ID": wid}
            listed = http.get(
                "/v1/sessions",
                params={"workspace_id": wid, "include_expired": "true"},
                headers=scope,
            ).json()
            for session in listed["sessions"]:
                with contextlib.suppress(httpx.HTTPStatusError):
                    http.delete(f"/v1/sessions/{session['id']}").raise_for_status()
            while True:
                page = http.get("/v1/memories", params={"limit": 200}, headers=scope).json()
                if not page["memories"]:
                    break
                for memory in page["memories"]:
                    http.delete(
                        f"/v1/memories/{memory['id']}", params={"hard": "true"}, headers=scope
                    )


@contextmanager
def open_memorylayer_backend(request: pytest.FixtureRequest, clock: Any) -> Iterator[Backend]:
    from memtui.remote.memorylayer import MemoryLayerBackend

    server = request.getfixturevalue("memorylayer_server")
    wipe_server(server.url)
    backend = MemoryLayerBackend(server.url, clock=clock)
    try:
        yield backend
    finally:
        backend.close()
