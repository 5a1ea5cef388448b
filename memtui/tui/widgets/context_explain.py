"""The context pane's explain view: a stacked bar of the tokens each section costs (as
Letta's context-window viewer shows its parts), the budget raise that takes in more, and
every memory left out with its reason; enter on one shows it in the timeline.

Everything is built from rich `Text` (stored text through `memtui.tui.stored_text`),
never markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from memtui.domain.context.explain import ContextExplanation
from memtui.domain.safe_text import visible_line

# Section colours in order (the header first); readable on dark and light themes.
SECTION_COLORS = ("#7f848e", "#61afef", "#c678dd", "#98c379", "#e5c07b", "#e06c75", "#56b6c2")
FREE_COLOR = "#3e4451"

REASON_TEXT = {
    "before_window": "before the window",
    "after_window": "after the window",
    "type_excluded": "type excluded",
    "type_not_included": "type not included",
    "did_not_fit": "did not fit",
    "not_reached": "not reached",
}


def _color(index: int) -> str:
    return SECTION_COLORS[index % len(SECTION_COLORS)]


def stacked_bar(explanation: ContextExplanation, width: int) -> Text:
    """One line of `width` cells: each part's share of the budget (or of the total
    without one), then the room left, shaded."""
    parts = [("header", explanation.header_tokens)] + [
        (section.heading, section.tokens) for section in explanation.sections
    ]
    scale = explanation.max_tokens or explanation.token_count or 1
    width = max(width, 10)
    bar = Text()
    used = 0
    for index, (_, tokens) in enumerate(parts):
        cells = round(tokens * width / scale)
        if tokens and cells == 0:
            cells = 1  # every part shows, however small
        cells = min(cells, width - used)
        bar.append("█" * cells, style=_color(index))
        used += cells
    if used < width and explanation.max_tokens:
        bar.append("░" * (width - used), style=FREE_COLOR)
    return bar


def legend(explanation: ContextExplanation) -> Text:
    """`■ header 11 · ■ Recent Actions (3) 43 · … = 114 of 120 tokens`."""
    text = Text()
    text.append("■ ", style=_color(0))
    text.append(f"header {explanation.header_tokens}")
    for index, section in enumerate(explanation.sections, start=1):
        text.append("  ")
        text.append("■ ", style=_color(index))
        # Headings come from stored memory types: shown literally.
        text.append(f"{visible_line(section.heading)} ({section.memory_count}) {section.tokens}")
    budget = f" of {explanation.max_tokens:,}" if explanation.max_tokens is not None else ""
    text.append(f"  = {explanation.token_count:,}{budget} tokens", style="bold")
    return text


def raise_text(explanation: ContextExplanation) -> Text:
    raised = explanation.next_raise
    if raised is None:
        if explanation.max_tokens is None:
            return Text("No budget: every memory in the window is included.", style="dim")
        return Text("Everything in the window fits the budget.", style="dim")
    noun = "memory" if raised.memories == 1 else "memories"
    text = Text("Raise the budget by ")
    text.append(f"{raised.tokens:,} tokens", style="bold")
    text.append(f" (to {raised.max_tokens:,}) to include the next {raised.memories} {noun}")
    whole = explanation.all_raise
    if whole is not None and whole != raised:
        text.append(f"; by {whole.tokens:,} (to {whole.max_tokens:,}) to include all")
    text.append(".")
    return text


class ContextExplainView(Vertical):
    """The explain view; `show(explanation)` fills it."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_in_timeline", "Show in timeline", id="context-explain-goto"),
    ]

    class ShowMemory(Message):
        """Asks the app to show a memory in the timeline."""

        def __init__(self, memory_id: str) -> None:
            super().__init__()
            self.memory_id = memory_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.explanation: ContextExplanation | None = None
        self._omitted_ids: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="cx-bar")
        yield Static("", id="cx-legend")
        yield Static("", id="cx-raise")
        yield Static("", id="cx-omitted-title")
        table: DataTable[Text] = DataTable(id="cx-omitted", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        table = self.query_one("#cx-omitted", DataTable)
        table.add_columns("reason", "tokens", "type", "memory")

    def on_resize(self) -> None:
        if self.explanation is not None:
            self._draw_bar(self.explanation)

    def show_message(self, text: str) -> None:
        """Instead of an explanation: why there is none (a backend without it)."""
        self.explanation = None
        self.query_one("#cx-bar", Static).update(Text(text, style="dim"))
        for name in ("#cx-legend", "#cx-raise", "#cx-omitted-title"):
            self.query_one(name, Static).update("")
        self.query_one("#cx-omitted", DataTable).clear()
        self._omitted_ids = []

    def _draw_bar(self, explanation: ContextExplanation) -> None:
        width = max(self.size.width - 2, 10)
        self.query_one("#cx-bar", Static).update(stacked_bar(explanation, width))

    def show(self, explanation: ContextExplanation) -> None:
        self.explanation = explanation
        self._draw_bar(explanation)
        self.query_one("#cx-legend", Static).update(legend(explanation))
        self.query_one("#cx-raise", Static).update(raise_text(explanation))
        omitted = explanation.omitted
        title = Text(f"Left out: {len(omitted)} of {len(explanation.candidates)}", style="bold")
        if omitted:
            title.append("  (enter: show in the timeline)", style="dim")
        self.query_one("#cx-omitted-title", Static).update(title)
        table = self.query_one("#cx-omitted", DataTable)
        row = table.cursor_row
        table.clear()
        self._omitted_ids = []
        for candidate in omitted:
            table.add_row(
                Text(REASON_TEXT.get(candidate.reason, candidate.reason)),
                Text("" if candidate.tokens is None else str(candidate.tokens), justify="right"),
                Text(visible_line(candidate.memory_type)),
                # Content is stored text: one line, controls visible, never markup.
                Text(visible_line(" ".join(candidate.content.split()))),
            )
            self._omitted_ids.append(candidate.id)
        if omitted:
            table.move_cursor(row=min(row, len(omitted) - 1))

    @property
    def selected_memory_id(self) -> str | None:
        table = self.query_one("#cx-omitted", DataTable)
        if not self._omitted_ids or table.cursor_row < 0:
            return None
        return self._omitted_ids[min(table.cursor_row, len(self._omitted_ids) - 1)]

    @on(DataTable.RowSelected, "#cx-omitted")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()  # enter on a row: the table's own binding takes the key first
        self.action_show_in_timeline()

    def action_show_in_timeline(self) -> None:
        memory_id = self.selected_memory_id
        if memory_id is None:
            self.notify("No memory is left out.", severity="warning")
            return
        self.post_message(self.ShowMemory(memory_id))
