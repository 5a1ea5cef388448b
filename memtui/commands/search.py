"""`memtui search QUERY [--agent A] [--session S] [--limit N]`: find memories.

It uses `memtui.search.search_memories`, the same call as the MCP tool `memory_recall`:
a case-insensitive substring match on content, best match first where the backend
ranks (`--json` says how: `method`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memtui.commands.memories import check_limit, more_hint, page_json, print_memories
from memtui.commands.output import Printer, run_command

if TYPE_CHECKING:
    from memtui.backend import Backend

DEFAULT_LIMIT = 20


def run_search_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        from memtui.search import search_memories

        limit = check_limit(args.limit)
        agent_id = backend.get_agent(args.agent).id if args.agent else None
        if args.session:
            backend.get_session(args.session)
        page = search_memories(
            backend, args.query, agent_id=agent_id, session_id=args.session, limit=limit
        )
        if args.json:
            printer.json(
                {"query": args.query, "method": backend.search_method(), **page_json(page)}
            )
            return 0
        if not page.memories:
            printer.write(f"No memory contains {printer.line(repr(args.query))}.")
            return 0
        print_memories(printer, page.memories, with_session=args.session is None)
        more_hint("search", page)
        return 0

    return run_command("search", args, work)
