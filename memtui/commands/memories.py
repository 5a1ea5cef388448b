"""`memtui memories SESSION|--agent A [FILTER…] [--limit N]`: the timeline on the
command line, with the timeline's filter grammar (memtui.domain.filters):

    memtui memories sess_1 type:decision since:2h login
    memtui memories --agent claude -type:session tag:auth --json

Newest first. Each memory is a header line (id, local time, type, importance, tags)
followed by its content exactly as stored (control characters made visible on a
terminal), then a blank line. `--json` gives the memories in the wire shape with
`next_cursor` for `--after`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memtui.commands.output import CommandError, Printer, local_time, run_command

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.models import Memory, MemoryPage

DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise CommandError(f"--limit {limit} is out of range (1-{MAX_LIMIT})")
    return limit


def memory_header(printer: Printer, memory: Memory, *, with_session: bool) -> str:
    parts = [printer.line(memory.id), local_time(memory.time), printer.line(memory.memory_type)]
    if memory.event_type != "general":
        parts.append(f"event {printer.line(memory.event_type)}")
    if memory.importance is not None:
        parts.append(f"imp {memory.importance:g}")
    if memory.tags:
        parts.append("tags " + ",".join(printer.line(tag) for tag in memory.tags))
    if with_session and memory.session_id:
        parts.append(f"session {printer.line(memory.session_id)}")
    return "  ".join(parts)


def print_memories(printer: Printer, memories: Sequence[Memory], *, with_session: bool) -> None:
    for index, memory in enumerate(memories):
        if index:
            printer.write()
        printer.write(memory_header(printer, memory, with_session=with_session))
        printer.write(printer.body(memory.content))


def page_json(page: MemoryPage) -> dict[str, object]:
    return {
        "memories": [memory.to_json() for memory in page.memories],
        "count": page.count,
        "has_more": page.has_more,
        "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
    }


def more_hint(command: str, page: MemoryPage) -> None:
    from memtui.commands.output import note

    if page.has_more and page.next_cursor is not None:
        note(
            command,
            f"{page.count} shown, more match: raise --limit, or continue with "
            f"--after '{page.next_cursor.encode()}'",
        )


def _scope(args: argparse.Namespace) -> tuple[str | None, str | None, list[str]]:
    """(session, agent, filter words) from `SESSION|--agent A` and the words."""
    words = list(args.words)
    if args.agent:
        return None, args.agent, words
    # The session is the first word that is not a negated filter (`-type:x` may come
    # first: argparse hands those over after the positional words).
    for index, word in enumerate(words):
        if not is_negated_filter_word(word):
            return word, None, words[:index] + words[index + 1 :]
    raise CommandError("give a SESSION, or --agent AGENT for all of an agent's memories")


def run_memories_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        from memtui.domain.filters import MemoryFilter
        from memtui.domain.models import MemoryCursor, MemoryQuery

        session_id, agent, words = _scope(args)
        limit = check_limit(args.limit)
        memory_filter = MemoryFilter.parse(" ".join(words), backend.now())
        agent_id = None
        if session_id is not None:
            backend.get_session(session_id)  # an unknown session is an error, not "none"
        else:
            agent_id = backend.get_agent(agent or "").id
        after = MemoryCursor.decode(args.after) if args.after else None
        query = memory_filter.apply(
            MemoryQuery(
                session_id=session_id,
                agent_id=agent_id,
                limit=limit,
                order=args.order,
                after=after,
            )
        )
        page = backend.list_memories(query)
        if args.json:
            printer.json(page_json(page))
            return 0
        if not page.memories:
            what = "match the filter" if memory_filter.active else "are stored"
            scope = f"session {session_id}" if session_id else f"agent {agent}"
            printer.write(f"No memories of {printer.line(scope)} {what}.")
            return 0
        print_memories(printer, page.memories, with_session=session_id is None)
        more_hint("memories", page)
        return 0

    return run_command("memories", args, work)


def is_negated_filter_word(word: str) -> bool:
    from memtui.domain.filters import FILTER_KEYS

    key, sep, _ = word.partition(":")
    return bool(sep) and key.startswith("-") and key.lower() in FILTER_KEYS


def filter_words_from_extras(extras: Sequence[str]) -> list[str] | None:
    """argparse reads a negated filter word such as `-type:session` as an unknown
    option, and the words after it as that option's values: all of these are filter
    words. None if any extra looks like an option that is not a filter word."""
    if any(extra.startswith("-") and not is_negated_filter_word(extra) for extra in extras):
        return None
    return list(extras)
