"""`memtui context diff SESSION --from T1 [--to T2]`: how a session's context changed
between two times (rebuilt from history), or between two budgets (`--max-tokens N
--to-max-tokens M`) or encodings (`--to-encoding`) at one time: the memories that
entered and left it, and the tokens per section before and after.

Both sides are explanations (`Backend.explain_context`, as of a time when one is
given) compared by `memtui.domain.context.explain.diff_contexts`.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from memtui.backend import Backend
from memtui.commands.output import CommandError, Printer, run_command, table
from memtui.domain.context.explain import ContextDiff, diff_contexts
from memtui.domain.models import ContextRequest

_PREVIEW = 60


def _types(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def requests_from_args(args: argparse.Namespace) -> tuple[ContextRequest, ContextRequest]:
    base = ContextRequest(
        since=args.since,
        until=args.until,
        include_types=_types(args.types),
        exclude_types=_types(args.exclude_types),
        max_tokens=args.max_tokens,
        order=args.order,
        encoding=args.encoding,
    )
    before = replace(base, as_of=args.from_time or None)
    after = replace(
        base,
        as_of=args.to_time or None,
        max_tokens=args.to_max_tokens if args.to_max_tokens is not None else base.max_tokens,
        encoding=args.to_encoding or base.encoding,
    )
    if before == after:
        raise CommandError(
            "nothing to compare: give --from (a time), or --to-max-tokens / --to-encoding"
        )
    return before, after


def _side(request: ContextRequest) -> str:
    when = f"as of {request.as_of}" if request.as_of else "now"
    budget = f"max {request.max_tokens}" if request.max_tokens else "no budget"
    return f"{when}, {budget}, {request.encoding}"


def diff_lines(
    diff: ContextDiff, before: ContextRequest, after: ContextRequest, printer: Printer
) -> list[str]:
    sign = "+" if diff.token_delta >= 0 else ""
    lines = [
        f"{printer.line(diff.after.session_id)}: {diff.before.token_count} -> "
        f"{diff.after.token_count} tokens ({sign}{diff.token_delta})",
        f"  from: {_side(before)}",
        f"  to:   {_side(after)}",
        "",
    ]
    rows = [
        [
            "header",
            str(diff.before.header_tokens),
            str(diff.after.header_tokens),
            f"{diff.after.header_tokens - diff.before.header_tokens:+d}",
            "",
        ]
    ]
    for section in diff.sections:
        rows.append(
            [
                printer.line(section.heading),
                str(section.tokens_before),
                str(section.tokens_after),
                f"{section.delta:+d}",
                f"{section.memories_before} -> {section.memories_after}",
            ]
        )
    lines += table(["SECTION", "BEFORE", "AFTER", "DELTA", "MEMORIES"], rows).splitlines()
    for title, mark, items in (("entered", "+", diff.entered), ("left", "-", diff.left)):
        lines.append("")
        lines.append(f"{title} ({len(items)}):")
        for item in items:
            content = " ".join(item.content.split())
            if len(content) > _PREVIEW:
                content = content[: _PREVIEW - 1] + "…"
            lines.append(f"  {mark} {printer.line(item.id)}  {printer.line(content)}")
    return lines


def run_context_diff_command(args: argparse.Namespace) -> int:
    def work(backend: Backend, printer: Printer) -> int:
        before, after = requests_from_args(args)
        diff = diff_contexts(
            backend.explain_context(args.session_id, before),
            backend.explain_context(args.session_id, after),
        )
        if args.json:
            data = diff.to_json()
            data["from"] = {
                "as_of": before.as_of,
                "max_tokens": before.max_tokens,
                "encoding": before.encoding,
            }
            data["to"] = {
                "as_of": after.as_of,
                "max_tokens": after.max_tokens,
                "encoding": after.encoding,
            }
            printer.json(data)
            return 0
        for line in diff_lines(diff, before, after, printer):
            printer.write(line)
        return 0

    return run_command("context diff", args, work)
