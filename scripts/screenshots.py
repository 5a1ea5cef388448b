"""Generate the SVG screenshots in screenshots/ from demo data at a frozen clock.

    python scripts/screenshots.py [--out screenshots] [--png]

Every picture is the real app (`App.run_test` + `save_screenshot`) on a fresh demo
store, with time frozen at 2026-03-14 15:09:26 UTC and local time set to UTC, so the
files only change when the UI does. `--png` also renders PNGs next to them (cairosvg)
for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

FROZEN_NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
SESSION = "sess_demo_ticket_4821"  # has memories, working memory, snapshots, open tasks

# (file name, terminal size, tab to show, what to focus: "list" | "pane")
SHOTS: list[tuple[str, tuple[int, int], str, str]] = [
    ("app.svg", (170, 46), "timeline", "list"),
    ("app-stacked.svg", (120, 40), "timeline", "list"),
    ("session-list.svg", (120, 40), "timeline", "list"),
    ("timeline.svg", (120, 40), "timeline", "pane"),
    ("working-memory.svg", (120, 40), "working-memory", "pane"),
    ("context-preview.svg", (120, 40), "context", "pane"),
    ("snapshots.svg", (120, 40), "snapshots", "pane"),
    ("briefing.svg", (120, 40), "briefing", "pane"),
]


async def take(
    out: Path, name: str, size: tuple[int, int], tab: str, focus: str, db_url: str
) -> Path:
    from memtui.domain.clock import ManualClock
    from memtui.store import SqlStore
    from memtui.tui.app import MemtuiApp

    clock = ManualClock(FROZEN_NOW)
    store = SqlStore(db_url, clock=clock)
    app = MemtuiApp(store, clock=clock, poll_interval=3600)
    app.animation_level = "none"
    app.backend_label = "sqlite:///~/.local/share/memtui/memtui.db"
    try:
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            pane = app.session_list
            pane.table.move_cursor(row=pane.shown_ids.index(SESSION))
            await settle(app, pilot)
            app.action_show_tab(tab, focus == "pane")
            await settle(app, pilot)
            if focus == "list":
                pane.table.focus()
            await settle(app, pilot)
            path = Path(app.save_screenshot(name, str(out)))
    finally:
        store.close()
    return path


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "screenshots")
    )
    parser.add_argument("--png", action="store_true", help="also write PNGs (needs cairosvg)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory() as tmp:
        # Never touch the user's config (theme) or caches.
        os.environ["MEMTUI_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["MEMTUI_CACHE_DIR"] = str(Path(tmp) / "cache")
        db_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        from memtui.demo import populate_demo
        from memtui.domain.clock import ManualClock
        from memtui.store import SqlStore

        with SqlStore(db_url, clock=ManualClock(FROZEN_NOW)) as store:
            populate_demo(store, now=FROZEN_NOW)
        for name, size, tab, focus in SHOTS:
            path = asyncio.run(take(out, name, size, tab, focus, db_url))
            print(path)
            if args.png:
                import cairosvg

                cairosvg.svg2png(
                    url=str(path), write_to=str(path.with_suffix(".png")), output_width=size[0] * 10
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
