"""`memtui demo [--open]`: fill the store with realistic demo data (idempotent)."""

from __future__ import annotations

import argparse
import sys

from memtui.commands.sessions import run_with_backend


def run_demo_command(args: argparse.Namespace) -> int:
    from memtui.backend import Backend

    def work(backend: Backend) -> int:
        from memtui.demo import populate_demo

        summary = populate_demo(backend, now=backend.now())
        print("\n".join(summary.lines()))
        return 0

    code = int(run_with_backend("demo", args, work))
    if code != 0 or not getattr(args, "open", False):
        if code == 0:
            print(
                "Open it with: memtui" + (f" --db {args.db}" if getattr(args, "db", None) else "")
            )
        return code
    try:
        from memtui.commands.tui import run_tui_command
    except ImportError:
        print("memtui demo: the terminal UI is not available in this build", file=sys.stderr)
        return 2
    return run_tui_command(args)
