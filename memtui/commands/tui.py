"""`memtui` with no command: open the terminal UI.

Textual is imported only here, inside the function, so `memtui --version` and
`--help` never pay for it; the store itself is opened by the app in a worker.
"""

from __future__ import annotations

import argparse
import sys


def run_tui_command(args: argparse.Namespace) -> int:
    from memtui.connect import resolve_target
    from memtui.domain.clock import clock_from_environment
    from memtui.domain.errors import MemtuiError

    try:
        target = resolve_target(
            db=getattr(args, "db", None),
            server=getattr(args, "server", None),
            api_key=getattr(args, "api_key", None),
            backend=getattr(args, "backend", None),
        )
    except MemtuiError as exc:  # MEMTUI_BACKEND names a kind memtui does not know
        print(f"memtui: {exc}", file=sys.stderr)
        return 2
    from memtui.tui.app import MemtuiApp

    app = MemtuiApp(target=target, clock=clock_from_environment())
    app.run()
    if app.fatal_error:
        print(f"memtui: {app.fatal_error}", file=sys.stderr)
        return 2
    return app.return_code or 0
