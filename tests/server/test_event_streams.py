"""How event streams are woken, capped and ended (issue 8 items 5 and 8), on real
`memtui serve` processes: streams wake on this server's writes and on other processes'
(SQLite: the watcher; PostgreSQL: LISTEN/NOTIFY), at most --max-event-streams are open
(then a JSON 503 with Retry-After), and revoking a key ends the streams opened with it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from memtui.domain.models import NewMemory
from memtui.store import SqlStore
from tests.helpers.live_server import create_api_key
from tests.helpers.sse import events

# Bounds that turn a broken server into a failure instead of a hang; never asserted on.
WAIT_SECONDS = 20.0


def memtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args], capture_output=True, text=True, timeout=60
    )


def _new_key(db_url: str, name: str) -> tuple[str, str]:
    """(key id, key) of a new key in the store, made by `memtui keys create`."""
    result = memtui("keys", "--db", db_url, "create", "--name", name)
    assert result.returncode == 0, result.stderr
    key_id = re.search(r"key_[0-9a-f]+", result.stdout).group(0)  # type: ignore[union-attr]
    return key_id, result.stdout.strip().splitlines()[-1]


class _Keyed:
    """A server as tests.helpers.sse.events wants it, with another key."""

    def __init__(self, live: Any, key: str) -> None:
        self.api_url = live.api_url
        self.headers = {"x-api-key": key}


def test_revoking_a_key_ends_its_open_streams(start_server: Any, tmp_path: Any) -> None:
    db_url = f"sqlite:///{tmp_path / 'revoke.db'}"
    live = start_server(db_url)
    key_id, key = _new_key(db_url, "agent")
    with live.client() as api:
        api.post("/agents", json={"name": "watched"})
    with events(_Keyed(live, key)) as doomed, events(live) as other:
        with live.client() as api:
            api.post("/memories", json={"agent_id": "watched", "content": "before"})
        assert doomed.next_event().data["data"]["content"] == "before"
        assert other.next_event().data["data"]["content"] == "before"

        revoked = memtui("keys", "--db", db_url, "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(EOFError):
            while True:  # nothing but what was in flight, then the end
                doomed.next_event()
        assert "the API key of this stream was revoked" in doomed.comments

        # The stream of a valid key goes on.
        with live.client() as api:
            api.post("/memories", json={"agent_id": "watched", "content": "after"})
        assert other.next_event().data["data"]["content"] == "after"
    again = httpx.get(f"{live.api_url}/events", headers={"x-api-key": key})
    assert again.status_code == 401


def test_streams_over_the_cap_get_503_with_retry_after(start_server: Any) -> None:
    live = start_server(extra_args=["--max-event-streams", "2"])
    with ExitStack() as open_streams:
        open_streams.enter_context(events(live))
        open_streams.enter_context(events(live))
        refused = httpx.get(f"{live.api_url}/events", headers=live.headers, timeout=10.0)
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) > 0
        assert "too many open event streams (at most 2)" in refused.json()["error"]
        with live.client() as api:  # everything else is served as usual
            assert api.get("/sessions").status_code == 200
    # Closed streams give their places back (as soon as the server sees them go).
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with (
            httpx.Client(timeout=10.0) as client,
            client.stream("GET", f"{live.api_url}/events", headers=live.headers) as response,
        ):
            if response.status_code == 200:
                break
        assert time.monotonic() < deadline, "closed streams never freed their places"
        time.sleep(0.1)
    assert "Traceback" not in live.output()


def _write_from_another_process(db_url: str, content: str) -> None:
    store = SqlStore(db_url)
    try:
        store.add_memories([NewMemory(agent_id="elsewhere", content=content)])
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_writes_by_other_processes_reach_the_streams(
    start_server: Any, tmp_path: Any, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        db_url = request.getfixturevalue("postgres_url")
    live = start_server(db_url, api_key=create_api_key(db_url))
    with live.client() as api:
        api.post("/agents", json={"name": "elsewhere"})
    with events(live) as first, events(live) as second:
        _write_from_another_process(db_url, "from the CLI")
        for reader in (first, second):
            event = reader.next_event()
            assert (event.kind, event.data["data"]["content"]) == (
                "memory.created",
                "from the CLI",
            )
