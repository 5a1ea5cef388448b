"""The context engine: a session's memories as LLM-ready markdown within a token budget.

Its parts: `selection` (the window and the priority order), `budget` (what fits,
counted exactly), `rendering` (how it reads), and `engine` (`render_context`, which
puts them together). Import from this package.

Format (seed 000, /work/shared/API.md "Context")::

    ## Session Context (sess_abc)

    ### Recent Actions (3)
    - Crawled https://example.com — found 3 product pages
    - Extracted pricing data from 3 pages

    ### Decisions (1)
    - Decided to focus on product category A

Every line ends with a newline, so the markdown ends with one newline.

Sections, in this fixed order, each only if it has memories:
Recent Actions (episodic), Decisions (decision), Entities (entity), Session Notes
(session), Errors (any memory whose event_type is `error`, whatever its type), then every
other type alphabetically by type name, headed by its name in title case
(`tool_call` -> `Tool Call`). Inside a section, memories follow `order` by time
(desc: newest first, the default), ties broken by id.

A memory's content becomes one bullet line: line breaks (and the blanks around them) are
collapsed to single spaces, so content can never break the markdown structure; empty
content reads `(empty)`.

With nothing to show, the header is followed by `_No memories in this window._` (or
`_No memories fit within the token budget._` when memories exist but none fit).

Budget (`max_tokens`): the tiktoken count of the whole markdown, headings included,
never exceeds it. Memories are considered by priority: importance first (highest first;
a memory without importance counts as 0.5), then the most recent, then the highest id.
Each memory that still fits is included; one that does not fit is left out and the next
is tried, until fewer than 2 tokens are left (no bullet is smaller) or 8 memories in a
row did not fit (so the work stays proportional to the output, not to the session).
If not even the header and the "nothing fits" line fit, the context is empty ("") with
token_count 0. `truncated` is true whenever something was left out.

Counting is exact without re-encoding the markdown: tiktoken first splits text with a
regex into pieces and encodes each piece on its own, and no piece ever spans a newline
followed by `-` or `#`. So the markdown's count is the sum of its lines' counts, where
each line is encoded with its newline, and the last bullet of a section that a blank
line follows is counted with both newlines (see `_Budget.known_separator_extra`). So
each candidate line is encoded once and the final markdown is never re-encoded (a final
verification count alone would cost as much as tiktoken's whole yardstick). Far from
the budget's end, lines are encoded a chunk at a time (`_take_chunks`), which is
provably the same selection; near it, one by one. The property tests check the counts
against a full count and the selection against a literal reference of the rule above.
"""

from memtui.domain.context.budget import MAX_CONSECUTIVE_MISSES
from memtui.domain.context.engine import build_context_parts, render_context
from memtui.domain.context.explain import (
    BudgetRaise,
    CandidateExplanation,
    ContextExplanation,
    Reason,
    SectionCost,
    explain_context,
)
from memtui.domain.context.rendering import (
    EMPTY_CONTENT,
    EMPTY_WINDOW_LINE,
    ERRORS_HEADING,
    NOTHING_FITS_LINE,
    bullet_text,
    header_line,
    one_line,
    section_key,
    type_heading,
)
from memtui.domain.context.selection import (
    DEFAULT_IMPORTANCE,
    ContextMemory,
    ContextWindow,
    importance_of,
    sort_by_priority,
    validate_context_request,
)

__all__ = [
    "BudgetRaise",
    "CandidateExplanation",
    "ContextExplanation",
    "Reason",
    "SectionCost",
    "build_context_parts",
    "explain_context",
    "DEFAULT_IMPORTANCE",
    "EMPTY_CONTENT",
    "EMPTY_WINDOW_LINE",
    "ERRORS_HEADING",
    "MAX_CONSECUTIVE_MISSES",
    "NOTHING_FITS_LINE",
    "ContextMemory",
    "ContextWindow",
    "bullet_text",
    "header_line",
    "importance_of",
    "one_line",
    "render_context",
    "section_key",
    "sort_by_priority",
    "type_heading",
    "validate_context_request",
]
