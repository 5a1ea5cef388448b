"""`memtui export [--agent A | --session S] > store.jsonl`: the store as JSON Lines.

The format is `memtui.domain.transfer`'s. Export reads through the Backend protocol, so it
works on a local store and on a memtui server alike, and it streams: memories are read
a page at a time (keyset), written, and forgotten, so a million of them export in
constant memory. On a terminal, stderr shows how far it has got.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from memtui.commands.output import Printer, dumps_json, run_command
from memtui.commands.progress import Progress

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import Agent, Memory, Session
    from memtui.domain.transfer import TransferObject

PAGE_SIZE = 1000


def export_text(record: dict[str, object]) -> str:
    """One record line. Characters a terminal acts on even inside a JSON string are
    \\uXXXX escapes (the same JSON value), as in every --json output."""
    return dumps_json(record, indent=None, compact=True)


class ExportScope:
    """What to export: everything, one agent's data, or one session's."""

    def __init__(self, backend: Backend, *, agent: str | None, session: str | None) -> None:
        self.backend = backend
        self.agent = agent
        self.session = session

    def agents_and_sessions(self) -> tuple[list[Agent], list[Session]]:
        backend = self.backend
        if self.session is not None:
            session = backend.get_session(self.session)
            return [backend.get_agent(session.agent_id)], [session]
        if self.agent is not None:
            agent = backend.get_agent(self.agent)
            sessions = backend.list_sessions(agent_id=agent.id)
            return [agent], sessions
        return backend.list_agents(), backend.list_sessions()

    def memory_query_fields(self, agents: list[Agent]) -> dict[str, str]:
        if self.session is not None:
            return {"session_id": self.session}
        if self.agent is not None:
            return {"agent_id": agents[0].id}
        return {}


def iter_export(scope: ExportScope, progress: Progress | None = None) -> Iterator[TransferObject]:
    """The scope's objects in the order an import needs them."""
    from dataclasses import replace

    from memtui.domain.models import Capability, MemoryQuery, Order

    backend = scope.backend
    offers = backend.capabilities()
    agents, sessions = scope.agents_and_sessions()
    yield from sorted(agents, key=lambda a: (a.created_at, a.id))
    sessions = sorted(sessions, key=lambda s: (s.created_at, s.id))
    yield from sessions
    for session in sessions:
        if Capability.SNAPSHOTS in offers:
            yield from sorted(
                backend.list_snapshots(session.id), key=lambda s: (s.created_at, s.id)
            )
        if Capability.WORKING_MEMORY in offers:
            yield from sorted(backend.list_working_memory(session.id), key=lambda i: i.key)
    query = MemoryQuery(order=Order.ASC.value, limit=PAGE_SIZE, **scope.memory_query_fields(agents))
    if progress is not None:
        progress.start("memories", backend.count_memories(query))
    while True:
        page = backend.list_memories(query)
        memories: list[Memory] = page.memories
        yield from memories
        if progress is not None:
            progress.advance(len(memories))
        if not page.has_more or page.next_cursor is None:
            break
        query = replace(query, after=page.next_cursor)
    if progress is not None:
        progress.finish()


def write_export(scope: ExportScope, out: IO[bytes], progress: Progress | None = None) -> int:
    """Writes the header and every record; returns how many records."""
    from memtui.domain.transfer import export_record, header_line

    out.write((header_line() + "\n").encode("utf-8"))
    count = 0
    pending: list[str] = []
    for obj in iter_export(scope, progress):
        pending.append(export_text(export_record(obj)))
        count += 1
        if len(pending) >= PAGE_SIZE:  # one write per page, not per line
            out.write(("\n".join(pending) + "\n").encode("utf-8"))
            pending.clear()
    if pending:
        out.write(("\n".join(pending) + "\n").encode("utf-8"))
    out.flush()
    return count


def run_export_command(args: argparse.Namespace) -> int:
    if args.agent and args.session:
        from memtui.commands.output import fail

        return fail("export", "give --agent or --session, not both")

    def work(backend: Backend, printer: Printer) -> int:
        scope = ExportScope(backend, agent=args.agent, session=args.session)
        progress = Progress.on_stderr("export")
        sys.stdout.flush()
        write_export(scope, sys.stdout.buffer, progress)
        return 0

    return run_command("export", args, work)
