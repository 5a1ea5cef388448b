"""`memtui context SESSION --explain [--json]`: why each memory of the session is in the
context or not, the tokens per section, and what a larger budget would take in.

Text on stdout (stored text made visible on a terminal, exact into a pipe); `--json`
prints `ContextExplanation.to_json()` (the HTTP route's answer). Exit 2 with one line on
stderr for any error.
"""

from __future__ import annotations

import argparse

from memtui.backend import Backend
from memtui.commands.output import Printer, run_command, table
from memtui.domain.context.explain import BudgetRaise, ContextExplanation

_BAR_WIDTH = 30
_PREVIEW = 60  # characters of content shown per memory in the text form


def raise_sentence(raised: BudgetRaise, *, whole: bool = False) -> str:
    """`raise the budget by 57 tokens (to 2057) to include the next 2 memories`."""
    memories = "memory" if raised.memories == 1 else "memories"
    what = f"all {raised.memories} left out" if whole else f"the next {raised.memories} {memories}"
    return f"raise the budget by {raised.tokens} tokens (to {raised.max_tokens}) to include {what}"


def _bar(tokens: int, total: int) -> str:
    if total <= 0:
        return ""
    return "█" * max(1 if tokens else 0, round(tokens * _BAR_WIDTH / total))


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def explanation_text(explanation: ContextExplanation, printer: Printer) -> list[str]:
    """The explanation as lines for a terminal or a pipe."""
    total = explanation.token_count
    budget = f" of {explanation.max_tokens}" if explanation.max_tokens is not None else ""
    lines = [
        f"{printer.line(explanation.session_id)}: {total}{budget} tokens "
        f"({explanation.encoding}), {explanation.memory_count} of "
        f"{len(explanation.candidates)} memories included",
        "",
    ]
    rows = [["header", "", str(explanation.header_tokens), _bar(explanation.header_tokens, total)]]
    for section in explanation.sections:
        rows.append(
            [
                printer.line(section.heading),
                str(section.memory_count),
                str(section.tokens),
                _bar(section.tokens, total),
            ]
        )
    rows.append(["total", str(explanation.memory_count), str(total), ""])
    lines += table(["SECTION", "MEMORIES", "TOKENS", ""], rows).splitlines()
    lines.append("")
    omitted = explanation.omitted
    if omitted:
        lines.append(f"left out ({len(omitted)}):")
        out_rows = [
            [
                printer.line(c.id),
                c.reason,
                "" if c.tokens is None else str(c.tokens),
                printer.line(_preview(c.content)),
            ]
            for c in omitted
        ]
        lines += [
            "  " + line
            for line in table(["ID", "REASON", "TOKENS", "CONTENT"], out_rows).splitlines()
        ]
        lines.append("")
    else:
        lines += ["every memory of the session is included", ""]
    if explanation.next_raise is not None:
        lines.append(raise_sentence(explanation.next_raise))
        whole = explanation.all_raise
        if whole is not None and whole != explanation.next_raise:
            lines.append(raise_sentence(whole, whole=True))
    return lines


def run_explain(args: argparse.Namespace) -> int:
    from memtui.commands.context import request_from_args

    def work(backend: Backend, printer: Printer) -> int:
        explanation = backend.explain_context(args.session_id, request_from_args(args))
        if args.json:
            printer.json(explanation.to_json())
            return 0
        for line in explanation_text(explanation, printer):
            printer.write(line)
        return 0

    return run_command("context", args, work)


__all__ = ["explanation_text", "raise_sentence", "run_explain"]
