"""TUI benchmark: first paint, the timeline over a 1M-memory store, countdown CPU.

    python bench/bench_tui.py [--db URL] [--runs 7]

- **startup**: import → first painted screen *with data* (the session list filled), in
  fresh processes (median of `--runs`, the variants interleaved round by round so
  machine load hits them alike), beside a minimal Textual app (Header, Static, Footer)
  measured the same way. memtui is measured three ways:
  - `fast`: what a SQLite store does, cache or not: the first rows read with stdlib
    sqlite3 (memtui.store.fastpath), the store opened in a worker after that frame;
  - `cached`: the fast path off (as for a server): the cached session list paints;
  - `store`: the fast path off and no cache: the rows appear once the store is open.
- **timeline**: a timeline over every memory in the store (default: bench_store.py's
  1M-memory SQLite file): time to open it (first page painted), time to reach the end
  from the start (End key → last page painted), and the RSS it adds.
- **countdowns**: CPU per wall-second of the 1 Hz countdown timer with 2,000 sessions
  listed, against the same app idle with the timer stopped.

The store is only read (a temporary store is built for the countdowns).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DB = HERE / "data" / "bench_1000000.db"
SIZE = (120, 40)

# Both scripts time from the first line of the process to the end of the first
# compositor refresh (a frame written to the terminal) that shows the data: for the
# minimal app its first frame, for memtui the first frame with session rows in it.
PAINT_PROBE = """
import time
t0 = time.perf_counter()
import asyncio, sys
from textual.screen import Screen
first_paint = []
ready = lambda: True
_refresh = Screen._compositor_refresh
def probe(self):
    _refresh(self)
    if not first_paint and ready():
        first_paint.append(time.perf_counter() - t0)
Screen._compositor_refresh = probe
"""

STARTUP_MINIMAL = PAINT_PROBE + textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Minimal(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    async def main():
        app = Minimal()
        async with app.run_test(size=(120, 40)) as pilot:
            while not first_paint:
                await asyncio.sleep(0.001)
            print(first_paint[0])

    asyncio.run(main())
    """
)

STARTUP_MEMTUI = PAINT_PROBE + textwrap.dedent(
    """
    from memtui.connect import BackendTarget
    from memtui.tui.app import MemtuiApp

    if sys.argv[2] != "fast":
        import memtui.tui.session_cache
        memtui.tui.session_cache.read_store_sessions = lambda *_: None

    async def main():
        global ready
        app = MemtuiApp(target=BackendTarget(db_url=sys.argv[1]))
        ready = lambda: bool(app.session_list.shown_ids)
        async with app.run_test(size=(120, 40)) as pilot:
            while not first_paint:
                if app.fatal_error:
                    raise SystemExit(app.fatal_error)
                await asyncio.sleep(0.001)
            print(first_paint[0])
            await app.workers.wait_for_complete()

    asyncio.run(main())
    """
)


def run_startup(code: str, *args: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench_startup(db_url: str, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            MEMTUI_CONFIG_DIR=f"{tmp}/config",
            MEMTUI_CACHE_DIR=f"{tmp}/cache",
            PYTHONDONTWRITEBYTECODE="0",
        )

        def drop_cache() -> None:
            for cached in Path(f"{tmp}/cache").glob("sessions-*.json"):
                cached.unlink()

        # one warm-up of each, so the OS file cache is equally warm for all
        run_startup(STARTUP_MINIMAL, env=env)
        run_startup(STARTUP_MEMTUI, db_url, "store", env=env)  # also writes the cache
        times: dict[str, list[float]] = {"minimal": [], "fast": [], "cached": [], "store": []}
        for _ in range(runs):
            times["minimal"].append(run_startup(STARTUP_MINIMAL, env=env))
            drop_cache()
            times["fast"].append(run_startup(STARTUP_MEMTUI, db_url, "fast", env=env))
            drop_cache()
            times["store"].append(run_startup(STARTUP_MEMTUI, db_url, "store", env=env))
            # the store run above wrote the cache again
            times["cached"].append(run_startup(STARTUP_MEMTUI, db_url, "cached", env=env))
    result = {f"{name}_ms": statistics.median(values) * 1000 for name, values in times.items()}
    for name in ("fast", "cached", "store"):
        result[f"{name}_ratio"] = result[f"{name}_ms"] / result["minimal_ms"]
    return result


async def _timeline(db_url: str) -> dict[str, float]:
    import asyncio

    import psutil

    from memtui.domain.models import MemoryQuery, Order
    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp
    from memtui.tui.widgets.timeline import TimelinePane, TimelineView

    store = SqlStore(db_url)
    process = psutil.Process()
    app = MemtuiApp(store, poll_interval=3600)
    app.animation_level = "none"

    # "Painted" = the view rendered a line of a memory (its line API was called for
    # it by the compositor). pilot.pause() would add 70-130 ms of waiting for every
    # other widget's messages, which is the test harness, not the timeline.
    painted: list[float] = []
    render_line = TimelineView.render_line

    def recording_render(self, y):  # type: ignore[no-untyped-def]
        strip = render_line(self, y)
        if self.memory_at(int(self.scroll_y) + y) is not None:
            painted.append(time.perf_counter())
        return strip

    TimelineView.render_line = recording_render  # type: ignore[method-assign]

    from textual.worker import WorkerCancelled

    async def drain() -> None:
        for _ in range(10):
            try:
                await app.workers.wait_for_complete()
                return
            except WorkerCancelled:  # an exclusive load replaced by a newer one
                continue

    async def until(predicate, pilot) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        painted.clear()
        while not predicate():
            await asyncio.sleep(0.0005)
        while not painted:
            await asyncio.sleep(0.0005)
        return (painted[0] - start) * 1000

    async with app.run_test(size=SIZE) as pilot:
        while not app.session_list.shown_ids:
            await asyncio.sleep(0.01)
        await drain()
        await pilot.pause()
        pane = app.query_one(TimelinePane)
        view = app.query_one(TimelineView)
        session = app.session_list.selected_session
        total = store.count_memories(MemoryQuery())
        # The whole store as one timeline: the same widget over a 1M-row query.
        pane.base_query = lambda _session: MemoryQuery(order=Order.ASC.value)  # type: ignore[method-assign]
        view.focus()
        rss_before = process.memory_info().rss
        pane.session = None
        await pilot.pause()
        opens, counted = [], []
        for _ in range(5):
            pane.session = None
            await pilot.pause()
            start = time.perf_counter()
            painted.clear()
            pane.session = session
            # open: the newest memories painted (the count may still be running)
            while not painted or view.current is None:
                await asyncio.sleep(0.0005)
            opens.append((painted[0] - start) * 1000)
            while view.total != total or view.is_provisional:
                await asyncio.sleep(0.0005)
            counted.append((time.perf_counter() - start) * 1000)
            await drain()
            await pilot.pause()
        ends = []
        for _ in range(5):
            view.action_first()
            await until(lambda: view.current is not None, pilot)
            await drain()
            await pilot.pause()
            # Forget every page but the first ones, as after a long walk from the start.
            assert view.source is not None
            for page in list(view.source._pages):
                if page > 1:
                    del view.source._pages[page]
            view._line_cache.clear()
            painted.clear()
            start = time.perf_counter()
            view.action_last()
            while not painted or view.current is None:
                await asyncio.sleep(0.0005)
            ends.append((painted[-1] - start) * 1000)
            await drain()
            await pilot.pause()
        rss_after = process.memory_info().rss
    store.close()
    return {
        "memories": total,
        "open_ms": statistics.median(opens),
        "open_with_count_ms": statistics.median(counted),
        "end_ms": statistics.median(ends),
        "added_rss_mb": (rss_after - rss_before) / 2**20,
    }


def bench_timeline(db_url: str) -> dict[str, float]:
    import asyncio

    return asyncio.run(_timeline(db_url))


async def _countdowns(seconds: float) -> dict[str, float]:
    import asyncio
    from datetime import timedelta

    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp

    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/c.db")
        for i in range(2000):
            # all under an hour: every visible countdown changes every second
            store.create_session(f"agent_{i % 20:02d}", ttl=timedelta(minutes=15 + i % 40))
        app = MemtuiApp(store, poll_interval=3600)
        app.animation_level = "none"
        async with app.run_test(size=SIZE) as pilot:
            while len(app.session_list.shown_ids) < 2000:
                await asyncio.sleep(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app._tick_timer is not None
            app._tick_timer.pause()
            await asyncio.sleep(0.5)
            cpu = time.process_time()
            await asyncio.sleep(seconds)
            idle = (time.process_time() - cpu) / seconds
            app._tick_timer.resume()
            await asyncio.sleep(0.5)
            cpu = time.process_time()
            await asyncio.sleep(seconds)
            ticking = (time.process_time() - cpu) / seconds
            # the tick itself, in isolation
            start = time.process_time()
            for _ in range(50):
                app.tick()
            per_tick = (time.process_time() - start) / 50
        store.close()
    return {
        "sessions": 2000,
        "idle_cpu_ms_per_s": idle * 1000,
        "ticking_cpu_ms_per_s": ticking * 1000,
        "countdown_cpu_ms_per_s": (ticking - idle) * 1000,
        "tick_call_ms": per_tick * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=["startup", "timeline", "countdowns"])
    args = parser.parse_args()
    figures: dict[str, object] = {"db": args.db}
    if args.only in (None, "startup"):
        figures["startup"] = bench_startup(args.db, args.runs)
        print(json.dumps(figures["startup"], indent=2), flush=True)
    if args.only in (None, "timeline"):
        figures["timeline"] = bench_timeline(args.db)
        print(json.dumps(figures["timeline"], indent=2), flush=True)
    if args.only in (None, "countdowns"):
        figures["countdowns"] = bench_countdowns(args.seconds)
        print(json.dumps(figures["countdowns"], indent=2), flush=True)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_tui.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def bench_countdowns(seconds: float) -> dict[str, float]:
    import asyncio

    return asyncio.run(_countdowns(seconds))


if __name__ == "__main__":
    sys.exit(main())
