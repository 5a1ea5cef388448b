"""`memtui context SESSION_ID`: a session's LLM-ready context, for scripts and pipes.

The markdown goes to stdout exactly as the engine built it (UTF-8, nothing added), so
`memtui context … | llm` sends precisely what was counted; the token summary goes to
stderr. Exit codes: 0 ok; 2 an error (bad --since, unknown session or type, unreachable
store…), one line on stderr and nothing on stdout. A failed `--copy` (no clipboard here)
is an error too, exit 2, but the context was already written to stdout, so a pipe still
gets it; only the copy failed.
"""

from __future__ import annotations

import argparse
import os
import sys

from memtui.domain.errors import MemtuiError
from memtui.domain.models import ContextRequest, ContextResult

EXIT_ERROR = 2


def _type_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(name.strip() for name in text.split(",") if name.strip())


def request_from_args(args: argparse.Namespace) -> ContextRequest:
    return ContextRequest(
        since=args.since,
        until=args.until,
        include_types=_type_list(args.types),
        exclude_types=_type_list(args.exclude_types),
        max_tokens=args.max_tokens,
        order=args.order,
        encoding=args.encoding,
        as_of=getattr(args, "as_of", None) or None,
    )


def token_summary(result: ContextResult) -> str:
    """`1873 tokens (cl100k_base, max 2000), 42 memories, 7 omitted`."""
    limit = f", max {result.max_tokens}" if result.max_tokens is not None else ""
    memories = "memory" if result.memory_count == 1 else "memories"
    summary = f"{result.token_count} tokens ({result.encoding}{limit}), "
    summary += f"{result.memory_count} {memories}"
    if result.omitted_count:
        summary += f", {result.omitted_count} omitted"
    return summary


def _fail(message: str) -> int:
    print(f"memtui context: {message}", file=sys.stderr)
    return EXIT_ERROR


def _build(args: argparse.Namespace) -> ContextResult:
    from memtui.connect import open_backend, resolve_target
    from memtui.domain.clock import clock_from_environment

    # Relative --since/--until count back from the backend's clock (a test may set it).
    target = resolve_target(args.db, args.server, args.api_key, getattr(args, "backend", None))
    backend = open_backend(target, clock=clock_from_environment())
    try:
        return backend.build_context(args.session_id, request_from_args(args))
    finally:
        backend.close()


def run_context_command(args: argparse.Namespace) -> int:
    if getattr(args, "explain", False):
        if args.copy:
            return _fail("--copy copies the context itself: leave out --explain")
        from memtui.commands.context_explain import run_explain

        return run_explain(args)
    if getattr(args, "json", False):
        return _fail("--json goes with --explain (the context itself is markdown)")
    try:
        result = _build(args)
    except MemtuiError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for the user; say what broke
        return _fail(f"unexpected error ({type(exc).__name__}: {exc})")

    try:
        sys.stdout.buffer.write(result.context.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:  # `memtui context … | head` closed the pipe: not an error
        # Point stdout at /dev/null so the flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(token_summary(result), file=sys.stderr)

    if args.copy:
        from memtui.clipboard import copy_to_system_clipboard

        try:
            copy_to_system_clipboard(result.context)
        except MemtuiError as exc:
            return _fail(str(exc))
        print("copied to the clipboard", file=sys.stderr)
    return 0
