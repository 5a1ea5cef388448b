"""memtui on a real MemoryLayer server beside memtui on `memtui serve` (issue 12).

    python bench/bench_memorylayer.py [--runs 5] [--memories 2000]

Both servers run on this machine (127.0.0.1) and hold the same data: 40 sessions in 8
workspaces/agents, and one workspace/agent with `--memories` memories and a session
(MemoryLayer: memories belong to the workspace; memtui: to the session). Figures:

- **first screen**: a fresh `memtui --server URL` process (headless, 120×40, no cached
  list) from its first line to the first painted frame with session rows (median);
- **timeline paging**: the first page of 100 and every following page of 100 to the
  end, through the Backend (median ms per page, and the whole walk);
- **context**: memtui's context build for the big session, unlimited and within 4,000
  tokens (median of `--runs`); for MemoryLayer also its own context-pack.

`uptime`'s load average is printed beside every figure: the machine is shared.
Output: a table on stdout and `bench/out/bench_memorylayer.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from memtui.backend import Backend  # noqa: E402
from memtui.domain.models import ContextRequest, MemoryQuery, NewMemory  # noqa: E402

STARTUP = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import asyncio, sys
    from textual.screen import Screen
    first_paint = []
    ready = lambda: False
    _refresh = Screen._compositor_refresh
    def probe(self):
        _refresh(self)
        if not first_paint and ready():
            first_paint.append(time.perf_counter() - t0)
    Screen._compositor_refresh = probe

    from memtui.connect import resolve_target
    from memtui.tui.app import MemtuiApp

    async def main():
        global ready
        target = resolve_target(server=sys.argv[1], api_key=sys.argv[2] or None)
        app = MemtuiApp(target=target)
        ready = lambda: bool(app.session_list.shown_ids) and not app.session_list.from_cache
        async with app.run_test(size=(120, 40)):
            deadline = time.perf_counter() + 60
            while not first_paint and time.perf_counter() < deadline:
                if app.fatal_error:
                    raise SystemExit(app.fatal_error)
                await asyncio.sleep(0.001)
            print(first_paint[0])

    asyncio.run(main())
    """
)


def load() -> str:
    return os.getloadavg().__repr__()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def first_screen(url: str, key: str, runs: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MEMTUI_CONFIG_DIR=f"{tmp}/config", MEMTUI_CACHE_DIR=f"{tmp}/c")
        for _ in range(runs + 1):
            for cached in Path(f"{tmp}/c").glob("sessions-*.json"):
                cached.unlink()
            done = subprocess.run(
                [sys.executable, "-c", STARTUP, url, key],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            if done.returncode:
                raise RuntimeError(done.stderr[-2000:])
            times.append(float(done.stdout.strip().splitlines()[-1]))
    return times[1:]  # the first run warms the OS file cache


def timeline(backend: Backend, session_id: str) -> dict[str, Any]:
    pages: list[float] = []
    rows = 0
    after = None
    started = time.perf_counter()
    while True:
        t = time.perf_counter()
        page = backend.list_memories(MemoryQuery(session_id=session_id, limit=100, after=after))
        pages.append(time.perf_counter() - t)
        rows += page.count
        if not page.has_more:
            break
        after = page.next_cursor
    return {
        "first_page_ms": round(pages[0] * 1000, 1),
        "page_median_ms": median_ms(pages[1:] or pages),
        "pages": len(pages),
        "rows": rows,
        "walk_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def timed(
    call: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None
) -> tuple[float, Any]:
    """Median of `runs` calls after one warm-up; `before` runs untimed before each."""
    result = call()  # warm
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        t = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t)
    return median_ms(times), result


def forget_lists(backend: Backend) -> Callable[[], None]:
    """MemoryLayer's backend keeps a read memory list for a second (pages and counts
    in a row reuse it); a cold build reads the workspace again."""
    client = getattr(backend, "client", backend)
    return getattr(client, "_forget_lists", lambda: None)


def contents(count: int) -> list[str]:
    # Distinct words, so MemoryLayer does not merge near-duplicates on write.
    return [f"step {i}: {uuid.uuid4().hex} checked {uuid.uuid4().hex[:12]}" for i in range(count)]


def seed_memorylayer(url: str, memories: int) -> str:
    with httpx.Client(base_url=url, timeout=120.0) as http:
        for w in range(8):
            for _ in range(5):
                http.post(
                    "/v1/sessions", json={"workspace_id": f"bench-ws-{w}", "ttl_seconds": 21600}
                ).raise_for_status()
        big = http.post(
            "/v1/sessions", json={"workspace_id": "bench-big", "ttl_seconds": 21600}
        ).json()["session"]["id"]
        texts = contents(memories)
        for start in range(0, memories, 200):
            ops = [
                {"op": "create", "content": text, "type": "episodic" if i % 4 else "semantic"}
                for i, text in enumerate(texts[start : start + 200], start)
            ]
            http.post(
                "/v1/memories/batch",
                json={"operations": ops},
                headers={"X-Workspace-ID": "bench-big"},
            ).raise_for_status()
        http.post(f"/v1/sessions/{big}/memory", json={"key": "task", "value": {"goal": "bench"}})
    return big


def seed_memtui(backend: Backend, memories: int) -> str:
    for w in range(8):
        for _ in range(5):
            backend.create_session(f"bench-ws-{w}")
    big = backend.create_session("bench-big").id
    texts = contents(memories)
    for start in range(0, memories, 500):
        backend.add_memories(
            [
                NewMemory(
                    agent_id="bench-big",
                    session_id=big,
                    content=text,
                    memory_type="episodic" if i % 4 else "decision",
                )
                for i, text in enumerate(texts[start : start + 500], start)
            ]
        )
    backend.set_working_memory(big, "task", {"goal": "bench"})
    return big


def measure(name: str, url: str, key: str, backend: Backend, big: str, runs: int) -> dict:
    out: dict[str, Any] = {"server": name}
    out["first_screen_load"] = uptime()
    out["first_screen_ms"] = median_ms(first_screen(url, key, runs))
    out["timeline_load"] = uptime()
    out["timeline"] = timeline(backend, big)
    out["context_load"] = uptime()
    cold = forget_lists(backend)
    out["context_unlimited_ms"], full = timed(
        lambda: backend.build_context(big, ContextRequest()), runs, cold
    )
    out["context_4000_ms"], small = timed(
        lambda: backend.build_context(big, ContextRequest(max_tokens=4000)), runs, cold
    )
    out["context_memories"] = full.memory_count
    out["context_tokens"] = full.token_count
    out["context_4000_memories"] = small.memory_count
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memories", type=int, default=2000)
    args = parser.parse_args()

    from memtui.remote import HttpBackend
    from tests.helpers.live_server import start_live_server
    from tests.helpers.memorylayer import MemoryLayerServer, ensure_venv

    results = []
    root = Path(tempfile.mkdtemp(prefix="memtui-bench-ml-"))
    with MemoryLayerServer(ensure_venv(), root / "ml") as ml_server:
        ml_server.start()
        big = seed_memorylayer(ml_server.url, args.memories)
        with HttpBackend(ml_server.url) as backend:
            result = measure("MemoryLayer 0.2.0", ml_server.url, "", backend, big, args.runs)
            result["server_pack_load"] = uptime()
            result["server_pack_ms"], pack = timed(
                lambda: backend.server_context(big, budget_tokens=4000), args.runs
            )
            result["server_pack_estimate"] = pack.server_tokens
            result["server_pack_exact"] = pack.exact_tokens
            results.append(result)
    served = start_live_server(f"sqlite:///{root / 'memtui.db'}")
    with served, HttpBackend(served.url, api_key=served.api_key) as backend:
        big = seed_memtui(backend, args.memories)
        name = "memtui serve (SQLite)"
        results.append(measure(name, served.url, served.api_key, backend, big, args.runs))

    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench_memorylayer.json").write_text(json.dumps(results, indent=2))
    for result in results:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
