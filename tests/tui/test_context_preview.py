"""The context preview in the real app, on a real SQLite file with a frozen clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import ContentSwitcher, Input, ProgressBar, Static, TextArea

from memtui.domain.models import ContextRequest
from memtui.store import SqlStore
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.widgets.context_preview import ContextPreviewPane
from tests.tui.conftest import toasts, wait_until

SIZE = (120, 40)
SESSION = "sess_alpha"


class FixedNameStore(SqlStore):
    """The real store; only its description is fixed (the tmp path would churn snapshots)."""

    def describe(self) -> str:
        return "sqlite:///store.db"


def notifications(app: Any) -> list[str]:
    return toasts(app)


async def open_context(app: Any, pilot: Any, settle: Any) -> ContextPreviewPane:
    await settle(pilot)
    session_list = app.session_list
    session_list.table.move_cursor(row=session_list.shown_ids.index(SESSION))
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    pane = app.query_one(ContextPreviewPane)
    assert pane.result is not None and pane.result.session_id == SESSION
    return pane


async def type_into(pilot: Any, settle: Any, field: Input, text: str) -> None:
    """Replace a filter's text by typing, then wait out the debounce and the build."""
    field.focus()
    field.value = ""
    await pilot.press(*text)
    pane = field.query_ancestor(ContextPreviewPane)
    # The build starts DEBOUNCE_SECONDS after the last key; then wait for it.
    await wait_until(pilot, lambda: pane._debounce is None, what="the debounced build")
    await settle(pilot)


def gauge_text(pane: ContextPreviewPane) -> str:
    return str(pane.query_one("#cp-gauge-label", Static).render())


async def test_copy_puts_exactly_the_preview_text_on_the_clipboard(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        # The preview is what `memtui context sess_alpha --max-tokens 2000` prints.
        expected = small_store.build_context(SESSION, ContextRequest(max_tokens=2000))
        assert pane.preview_text == expected.context
        assert pane.preview_text.startswith(f"## Session Context ({SESSION})")

        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == pane.preview_text
        tokens = f"{expected.token_count:,} tokens"
        # No system clipboard on this machine: it says OSC 52 only, calmly.
        assert any(tokens in note and "OSC 52" in note for note in notifications(app))


async def test_max_tokens_moves_the_gauge_and_is_never_exceeded(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        full = pane.result
        assert full is not None and full.omitted_count == 0
        assert f"{full.token_count:,} / 2,000 tokens" in gauge_text(pane)

        budget = full.token_count // 2
        await type_into(pilot, settle, pane.query_one("#cp-max-tokens", Input), str(budget))
        result = pane.result
        assert result is not None and result.max_tokens == budget
        assert 0 < result.token_count <= budget
        assert result.omitted_count > 0 and result.truncated
        assert f"{result.token_count:,} / {budget:,} tokens" in gauge_text(pane)
        assert f"{result.omitted_count} memories left out" in gauge_text(pane)
        gauge = pane.query_one("#cp-gauge", ProgressBar)
        assert gauge.total == budget and gauge.progress == result.token_count

        # Typing quickly builds once, with the last value (the debounce drops the rest).
        await type_into(pilot, settle, pane.query_one("#cp-max-tokens", Input), "90")
        assert pane.result is not None and pane.result.max_tokens == 90
        assert pane.result.token_count <= 90


async def test_a_bad_since_names_the_value_and_keeps_the_input(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        before = pane.preview_text
        since = pane.query_one("#cp-since", Input)
        await type_into(pilot, settle, since, "yesterday")
        error = str(pane.query_one("#cp-error", Static).render())
        assert "'yesterday'" in error
        assert since.value == "yesterday" and since.has_class("-invalid")
        assert pane.preview_text == before  # the last good preview stays

        await type_into(pilot, settle, since, "10m")
        assert not since.has_class("-invalid")
        assert str(pane.query_one("#cp-error", Static).render()) == ""
        assert pane.result is not None and pane.result.memory_count == 10


async def test_types_and_order_filter_the_preview(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        await type_into(pilot, settle, pane.query_one("#cp-include", Input), "decision")
        text = pane.preview_text
        assert "### Decisions" in text and "### Recent Actions" not in text
        hint = str(pane.query_one("#cp-types-hint", Static).render())
        assert "decision" in hint and "entity" in hint

        await type_into(pilot, settle, pane.query_one("#cp-include", Input), "nonsense")
        assert "'nonsense'" in str(pane.query_one("#cp-error", Static).render())
        assert pane.query_one("#cp-include", Input).has_class("-invalid")


async def test_toggle_between_rendered_markdown_and_raw_text(small_store, make_app, settle):
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        view = pane.query_one("#cp-view", ContentSwitcher)
        assert view.current == "cp-rendered-scroll" and pane.showing_rendered
        pane.query_one("#cp-rendered-scroll").focus()
        await pilot.press("v")
        await settle(pilot)
        assert view.current == "cp-raw" and not pane.showing_rendered
        assert pane.query_one("#cp-raw", TextArea).text == pane.preview_text
        await pilot.press("v")  # the read-only raw view lets the key through
        await settle(pilot)
        assert view.current == "cp-rendered-scroll"


async def test_save_to_file_writes_exactly_the_preview(
    small_store, make_app, settle, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_context(app, pilot, settle)
        pane.query_one("#cp-rendered-scroll").focus()
        await pilot.press("s")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert prompt.query_one(Input).value == f"context-{SESSION}.md"
        await pilot.press("enter")
        await settle(pilot)
        written = (tmp_path / f"context-{SESSION}.md").read_bytes()
        assert written == pane.preview_text.encode("utf-8")

        # A missing directory: a clear message, and the prompt comes back with the path.
        await pilot.press("s")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.value = "no/such/dir/context.md"
        await pilot.press("enter")
        await settle(pilot)
        missing = Path(tmp_path / "no/such/dir")
        assert any(f"the directory {missing} does not exist" in n for n in notifications(app))
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == "no/such/dir/context.md"
        assert not missing.exists()


@pytest.mark.parametrize("view", ["rendered", "raw"])
def test_snapshot_context_preview(
    small_store, sqlite_url, clock, make_app, settle, snap_compare, view
):
    app = make_app(FixedNameStore(sqlite_url, clock=clock))

    async def run_before(pilot: Any) -> None:
        pane = await open_context(app, pilot, settle)
        pane.query_one("#cp-rendered-scroll").focus()
        if view == "raw":
            await pilot.press("v")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
