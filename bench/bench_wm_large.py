"""Working memory with a large value (issue 8 item 13): time to show it, the longest
stall of the UI while it loads, and the memory it takes.

    python bench/bench_wm_large.py [--mb 5] [--runs 3] [--shape list|string]

Each run is a fresh process (clean RSS): a SQLite store in a temp dir with one session
whose working memory holds `big_value` (about `--mb` MB of JSON, opened first) and a
small `notes` key. Headless at 120x40, the app opens, the Working memory tab is shown
(`2`) and the run waits until the editor shows the big value. Reported:
- `show_s`: from the key press to the value in the editor (title and text set);
- `max_stall_ms`: the longest gap between ticks of a 20 ms timer over that time
  (how long typing would wait);
- `typed_ms`: a key typed into the filter 50 ms after the press: until it shows;
- `rss_mb`: resident memory after the value is shown; `peak_rss_mb`: ru_maxrss.
Print `uptime` next to the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

RUN = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time
    from datetime import timedelta
    sys.path.insert(0, {repo!r})
    from memtui.domain.clock import ManualClock, utc_now
    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp

    mb, shape, path = {mb!r}, {shape!r}, {path!r}
    store = SqlStore(f"sqlite:///{{path}}")
    session = store.create_session("bench", session_id="sess_big", ttl=timedelta(days=1))
    if shape == "string":
        value = {{"log": "x" * int(mb * 1_000_000)}}
    else:
        item = {{"path": "src/module/file_{{:06d}}.py", "note": "checked, needs a test " * 3}}
        count = int(mb * 1_000_000 / len(json.dumps(item)))
        value = [dict(item, id=i, path=item["path"].format(i)) for i in range(count)]
    store.set_working_memory("sess_big", "big_value", value)
    store.set_working_memory("sess_big", "notes", {{"todo": ["a", "b"]}})
    size = len(json.dumps(value))
    del value

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 1e6

    async def main():
        app = MemtuiApp(store)
        app.animation_level = "none"
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            before = rss_mb()
            ticks = []
            timer = app.set_interval(0.02, lambda: ticks.append(time.perf_counter()))
            t0 = time.perf_counter()
            await pilot.press("2")
            shown = None
            while time.perf_counter() - t0 < 120:
                await asyncio.sleep(0.005)
                panes = app.query("#working-memory")
                if panes:
                    pane = panes.first()
                    if pane.loaded_key == "big_value" and pane.editor.text:
                        shown = time.perf_counter() - t0
                        break
            await pilot.pause(0.3)
            timer.stop()
            gaps = [b - a for a, b in zip(ticks, ticks[1:])]
            stall = max(gaps + [ticks[0] - t0 if ticks else 0.0])
            after = rss_mb()
        print(json.dumps({{
            "value_bytes": size,
            "show_s": shown,
            "max_stall_ms": round(stall * 1000),
            "rss_mb": round(after),
            "rss_added_mb": round(after - before),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000),
        }}))

    asyncio.run(main())
    store.close()
    """
)


def run_once(mb: float, shape: str) -> dict[str, float]:
    repo = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as tmp:
        script = RUN.format(repo=repo, mb=mb, shape=shape, path=str(Path(tmp) / "store.db"))
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", choices=("list", "string"), default="list")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    runs = [run_once(args.mb, args.shape) for _ in range(args.runs)]
    summary = {
        key: statistics.median(run[key] for run in runs if run[key] is not None)
        for key in ("show_s", "max_stall_ms", "rss_mb", "rss_added_mb", "peak_rss_mb")
    }
    print(json.dumps({"uptime": uptime, "mb": args.mb, "shape": args.shape, "runs": runs}))
    print(json.dumps({"median": summary, "value_bytes": runs[0]["value_bytes"]}))


if __name__ == "__main__":
    main()
