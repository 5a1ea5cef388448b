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

# Issue 13's views, on a demo store with history: made 2 hours before the frozen time,
# then edited, deleted from and restored 30 minutes before it (see `add_history`).
# (file name, terminal size, tab, focus, what to do before the picture)
HISTORY_SHOTS: list[tuple[str, tuple[int, int], str, str, str]] = [
    ("context-explain.svg", (120, 40), "context", "pane", "explain"),
    ("context-as-of.svg", (120, 40), "context", "pane", "as-of"),
    ("history.svg", (120, 40), "timeline", "pane", "history"),
    ("trash.svg", (120, 40), "timeline", "pane", "trash"),
]
EDITED = "mem_demo_ticket_4821_034"
DELETED = ("mem_demo_ticket_4821_031", "mem_demo_ticket_4821_030")


def add_history(db_url: str) -> None:
    """The demo store's history: created at -2 h, then edits and deletes at -30 min by
    several actors, so that as-of, diff, history and trash have something to show."""
    from datetime import timedelta

    from memtui.demo import populate_demo
    from memtui.domain.actor import acting_as
    from memtui.domain.clock import ManualClock
    from memtui.domain.models import MemoryPatch
    from memtui.store import SqlStore

    clock = ManualClock(FROZEN_NOW - timedelta(hours=2))
    with SqlStore(db_url, clock=clock) as store:
        populate_demo(store, now=FROZEN_NOW)
        clock.now = FROZEN_NOW - timedelta(minutes=30)
        with acting_as("mcp:claude-code"):
            store.update_memory(
                EDITED,
                MemoryPatch(
                    content="Fourth double-charge ticket this week on the annual plan: "
                    "escalate to billing",
                    tags=["billing", "escalated"],
                    importance=0.95,
                ),
            )
        with acting_as("tui"):
            store.delete_memories(list(DELETED))
        with acting_as("support-key"):
            store.set_working_memory(SESSION, "refund", {"amount": 129.0, "status": "sent"})
            store.delete_working_memory(SESSION, "customer")


async def act(app, pilot, what: str) -> None:  # type: ignore[no-untyped-def]
    """What a user does before the picture of `what`."""
    from textual.widgets import Input

    if what in ("explain", "as-of"):
        pane = app.query_one("#context-preview")
        pane.query_one("#cp-max-tokens", Input).value = "180"
        if what == "as-of":
            pane.query_one("#cp-as-of", Input).value = "1h"
        pane._build_now()
        await settle(app, pilot)
        if what == "explain":
            pane.action_toggle_explain()
    elif what == "history":
        timeline = app.query_one("#timeline")
        timeline.reveal(EDITED)
        await settle(app, pilot)
        await pilot.press("h")
    elif what == "trash":
        await pilot.press("Z")
    await settle(app, pilot)
    await settle(app, pilot)


def diff_svg(out: Path, db_url: str) -> Path:
    """`memtui context diff` as a picture: the CLI's text, recorded by rich."""
    import io
    from datetime import timedelta

    from rich.console import Console
    from rich.text import Text

    from memtui.commands.context_diff import diff_lines
    from memtui.commands.output import Printer
    from memtui.domain.clock import ManualClock
    from memtui.domain.context.explain import diff_contexts
    from memtui.domain.models import ContextRequest
    from memtui.store import SqlStore

    then = (FROZEN_NOW - timedelta(hours=1)).isoformat()
    before = ContextRequest(max_tokens=180, as_of=then)
    after = ContextRequest(max_tokens=180)
    with SqlStore(db_url, clock=ManualClock(FROZEN_NOW)) as store:
        diff = diff_contexts(
            store.explain_context(SESSION, before), store.explain_context(SESSION, after)
        )
    console = Console(record=True, width=100, file=io.StringIO())
    prompt = f"$ memtui context diff {SESSION} --from {then} --max-tokens 180"
    console.print(Text(prompt, style="bold"))
    for line in diff_lines(diff, before, after, Printer(terminal=True)):
        console.print(Text(line))
    path = out / "context-diff.svg"
    console.save_svg(str(path), title="memtui context diff")
    return path


async def take(
    out: Path,
    name: str,
    size: tuple[int, int],
    tab: str,
    focus: str,
    db_url: str,
    action: str | None = None,
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
            if action is not None:
                await act(app, pilot, action)
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
        history_url = f"sqlite:///{Path(tmp) / 'history.db'}"
        add_history(history_url)
        shots = [(*shot, db_url, None) for shot in SHOTS] + [
            (name, size, tab, focus, history_url, action)
            for name, size, tab, focus, action in HISTORY_SHOTS
        ]
        for name, size, tab, focus, url, action in shots:
            path = asyncio.run(take(out, name, size, tab, focus, url, action))
            print(path)
            if args.png:
                import cairosvg

                cairosvg.svg2png(
                    url=str(path), write_to=str(path.with_suffix(".png")), output_width=size[0] * 10
                )
        print(diff_svg(out, history_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
