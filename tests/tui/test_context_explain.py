"""The context pane's explain view in the real app, on a real SQLite file: the stacked
bar and its legend add up to the context's tokens, the memories left out are listed with
their reasons, and enter shows one in the timeline."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from memtui.domain.models import ContextRequest
from memtui.tui.widgets.context_explain import legend, stacked_bar
from memtui.tui.widgets.timeline import TimelinePane
from tests.tui.test_context_preview import SESSION, SIZE, open_context, type_into


async def test_explain_shows_sections_reasons_and_jumps_to_the_timeline(
    small_store, make_app, settle
):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        full = pane.result
        assert full is not None
        budget = full.token_count // 2
        await type_into(pilot, settle, pane.query_one("#cp-max-tokens", Input), str(budget))
        pane.action_focus_preview()
        await pilot.press("x")
        await settle(pilot)
        explanation = pane.explanation
        assert explanation is not None and pane.showing_explain
        expected = small_store.explain_context(SESSION, ContextRequest(max_tokens=budget))
        assert explanation == expected
        assert explanation.header_tokens + sum(s.tokens for s in explanation.sections) == (
            pane.result.token_count
        )
        legend_text = str(pane.query_one("#cx-legend", Static).render())
        assert f"= {explanation.token_count:,} of {budget:,} tokens" in legend_text
        raise_line = str(pane.query_one("#cx-raise", Static).render())
        assert "Raise the budget by" in raise_line

        table = pane.query_one("#cx-omitted", DataTable)
        assert table.row_count == len(explanation.omitted) > 0
        first_out = explanation.omitted[0]
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        timeline = app.query_one(TimelinePane)
        current = timeline.view.current
        assert current is not None and current.id == first_out.id


def test_bar_covers_the_budget_and_never_reads_markup() -> None:
    from datetime import UTC, datetime

    from memtui.domain.context import explain_context, validate_context_request
    from memtui.domain.models import Memory

    memories = [
        Memory(
            id=f"m{n}",
            time=datetime(2026, 3, 14, tzinfo=UTC),
            agent_id="a",
            content=f"[bold]x{n}[/bold] \x1b[31m",
            memory_type="[red]custom[/red]",
        )
        for n in range(5)
    ]
    request = ContextRequest(max_tokens=60)
    window = validate_context_request(
        request, datetime(2026, 3, 15, tzinfo=UTC), ["[red]custom[/red]"]
    )
    explanation = explain_context("s", memories, request, window)
    bar = stacked_bar(explanation, 40)
    assert bar.cell_len == 40
    text = legend(explanation).plain
    assert "[red]custom[/red] (" in text  # the type's heading, literally
    assert "\x1b" not in text
