"""Stored text is data (issue 8 items 2, 3, 4): the hostile corpus, and hypothesis-made
strings, in every stored field; every pane renders without a crash, shows the text
literally (never as markup) and never sends a control character to the terminal.

Asserted on what the app displays: the screen's rendered lines (every character that
would be written to the terminal), the DataTable cells and the widgets' rendered
content, never on the helpers that produce them.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable, Static, TextArea
from textual.worker import WorkerCancelled

from memtui.domain.clock import ManualClock
from memtui.domain.models import NewMemory, NewSnapshot
from memtui.domain.safe_text import CONTROL_CHARACTERS
from tests.helpers.hostile import ISSUE_STRINGS, STORABLE_STRINGS, hostile_id, hostile_text, shown

SIZE = (160, 70)  # tall enough for every corpus row of the timeline and the key list
RAW_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
RAW_IN_BODY = re.compile(f"(?![\n\t])[{CONTROL_CHARACTERS}]")  # an editor keeps lines
HUB_SESSION = "[WIP] hub \x1b]52;c;aGk=\x07 session"
HUB_AGENT = "[1x"


@pytest.fixture
def settle(settle: Any) -> Any:
    """The shared `settle`, which also waits past an exclusive load cancelled by a
    newer one (`wait_for_complete` raises WorkerCancelled for it)."""

    async def patient(pilot: Any, *args: Any, **kwargs: Any) -> None:
        for _ in range(20):
            try:
                await settle(pilot, *args, **kwargs)
                return
            except WorkerCancelled:
                continue
        await settle(pilot, *args, **kwargs)

    return patient


def as_id(text: str, index: int) -> str:
    """`text` if a store takes it as an id, else a stand-in (the content fields still
    carry it)."""
    ok = text.strip() and "/" not in text and text.strip() not in (".", "..")
    return text if ok and len(text) <= 200 else f"id-{index}"


def one_line(text: str) -> str:
    """How a one-line preview (timeline row, briefing line) shows multi-line text:
    runs of spaces, tabs and newlines as one space, other controls visible."""
    return shown(re.sub(r"[ \t\n]+", " ", text).strip())


def fill(store: Any, clock: ManualClock, strings: list[str]) -> dict[str, Any]:
    """Every string in every stored field: session ids and agents (one session each),
    and in the hub session memory content, tags and metadata, working-memory keys and
    values, and a snapshot's project path, files, decisions and open tasks."""
    now = clock.now
    ids = list(dict.fromkeys(as_id(s, i) for i, s in enumerate(strings)))
    store.create_session(HUB_AGENT, session_id=HUB_SESSION, ttl=timedelta(minutes=30))
    for session_id in ids:
        if session_id != HUB_SESSION:
            store.create_session(session_id, session_id=session_id, metadata={"note": session_id})
    store.add_memories(
        [
            NewMemory(
                agent_id=HUB_AGENT,
                session_id=HUB_SESSION,
                content=text,
                tags=[as_id(text, i)[:100]],
                metadata={"text": text},
                time=now - timedelta(minutes=len(strings) - i),
                id=f"mem-{i:03d}",
            )
            for i, text in enumerate(strings)
        ]
    )
    keys = list(dict.fromkeys(as_id(s, i) for i, s in enumerate(strings)))
    for key in keys:
        store.set_working_memory(HUB_SESSION, key, {"text": key, "all": strings[:3]})
    store.create_snapshot(
        HUB_SESSION,
        NewSnapshot(
            project_path=strings[0],
            files_modified=list(strings),
            key_decisions=list(strings),
            open_tasks=list(strings),
        ),
    )
    return {"ids": ids, "keys": keys}


def screen_lines(app: Any) -> list[str]:
    """What the terminal is sent for the current screen, line by line."""
    return [
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    ]


def assert_no_raw_controls(app: Any, where: str) -> None:
    for y, text in enumerate(screen_lines(app)):
        found = RAW_CONTROL.search(text)
        assert found is None, f"{where}: raw {found.group()!r} on screen line {y}: {text!r}"


def displayed(widget: Static) -> str:
    """The plain text a Static/Label displays (markup, if any, already applied)."""
    visual = widget.visual
    return visual.plain if hasattr(visual, "plain") else str(visual)


def cells(table: DataTable[Any], column: int = 0) -> list[str]:
    return [
        str(getattr(row[column], "plain", row[column]))
        for row in (table.get_row_at(i) for i in range(table.row_count))
    ]


async def show_tab(app: Any, pilot: Any, settle: Any, key: str, pane_id: str) -> Any:
    await pilot.press(key)
    await settle(pilot)
    for _ in range(100):
        panes = app.query(f"#{pane_id}")
        if panes:
            break
        await asyncio.sleep(0.02)
    await settle(pilot)
    return app.query_one(f"#{pane_id}")


async def select_session(app: Any, pilot: Any, settle: Any, session_id: str) -> None:
    session_list = app.session_list
    row = session_list.shown_ids.index(session_id)
    session_list.table.focus()
    session_list.table.move_cursor(row=row, animate=False)
    await settle(pilot)


async def visit_every_pane(
    app: Any, pilot: Any, settle: Any, strings: list[str], made: dict[str, Any]
) -> None:
    """Each pane of the hub session: rendered, checked for raw controls and literal text."""
    assert_no_raw_controls(app, "session list")
    table = app.session_list.table
    stored_ids = {HUB_SESSION, *made["ids"]}
    assert sorted(cells(table, 1)) == sorted(shown(session_id) for session_id in stored_ids)
    assert shown(HUB_AGENT) in cells(table, 0)
    await select_session(app, pilot, settle, HUB_SESSION)
    assert_no_raw_controls(app, "session list, hub selected")

    # 1 Timeline: the header and every memory's row.
    timeline = await show_tab(app, pilot, settle, "1", "timeline")
    header = displayed(timeline.query_one("#timeline-header", Static))
    assert header.startswith(f"session {shown(HUB_SESSION)} · {shown(HUB_AGENT)} · ")
    assert_no_raw_controls(app, "timeline")
    screen = "\n".join(screen_lines(app))
    for text in strings:
        expected = one_line(text)[:30]
        assert expected in screen, f"timeline row of {text!r}: {expected!r} not on screen"

    # Memory details (enter) for the issue's strings.
    for index, text in enumerate(strings):
        if text not in ISSUE_STRINGS:
            continue
        timeline.view.set_cursor(index)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert displayed(detail.query_one("#detail-content", Static)) == shown(text, multiline=True)
        fields = displayed(detail.query_one("#detail-fields", Static))
        assert f"session  {shown(HUB_SESSION)}" in fields
        assert f"agent  {shown(HUB_AGENT)}" in fields
        assert_no_raw_controls(app, f"memory detail of {text!r}")
        await pilot.press("escape")
        await settle(pilot)

    # 2 Working memory: the key list, the title and the editor.
    wm = await show_tab(app, pilot, settle, "2", "working-memory")
    keys_table = wm.query_one("#wm-keys", DataTable)
    listed = [name.removeprefix("● ") for name in cells(keys_table)]
    assert sorted(listed) == sorted(shown(key) for key in made["keys"])
    assert_no_raw_controls(app, "working memory")
    for key in made["keys"]:
        if key not in ISSUE_STRINGS:
            continue
        keys_table.move_cursor(row=keys_table.get_row_index(key), animate=False)
        await settle(pilot)
        assert wm.loaded_key == key
        title = displayed(wm.query_one("#wm-title", Static))
        assert title.startswith(f"{shown(key)} · v1 · "), title
        editor = wm.query_one("#wm-editor", TextArea)
        assert RAW_IN_BODY.search(editor.text) is None
        assert json.loads(editor.text) == {"text": key, "all": strings[:3]}
        assert not wm.is_dirty
        assert_no_raw_controls(app, f"working memory key {key!r}")

    # 3 Context: the rendered and raw previews show controls visibly; copy is exact.
    context = await show_tab(app, pilot, settle, "3", "context-preview")
    await settle(pilot)
    assert context.result is not None
    assert_no_raw_controls(app, "context (rendered)")
    raw = context.query_one("#cp-raw", TextArea)
    assert RAW_IN_BODY.search(raw.text) is None
    assert raw.text == shown(context.result.context, multiline=True)
    await pilot.press("v")
    await settle(pilot)
    assert_no_raw_controls(app, "context (raw)")
    await pilot.press("c")
    await settle(pilot)
    assert app.clipboard == context.result.context  # the exact bytes, controls and all

    # 4 Snapshots: the list and the detail, each entry literally.
    snapshots = await show_tab(app, pilot, settle, "4", "snapshots")
    detail_text = displayed(snapshots.query_one("#snap-detail", Static))
    for text in strings:
        assert f"  • {shown(text)}" in detail_text
        assert f"  ☐ {shown(text)}" in detail_text
    assert f"Project  {shown(strings[0])}" in detail_text
    assert f"agent {shown(HUB_AGENT)}" in detail_text
    assert_no_raw_controls(app, "snapshots")

    # 5 Briefing: the open tasks and recent activity, literally.
    briefing = await show_tab(app, pilot, settle, "5", "briefing")
    threads = displayed(briefing.query_one("#brief-threads", Static))
    for text in strings:
        assert f"  ☐ {shown(text)}  {shown(HUB_AGENT)} · {shown(HUB_SESSION)} · " in threads
    recent = displayed(briefing.query_one("#brief-recent", Static))
    for text in strings[-25:]:
        assert one_line(text)[:40] in recent
    scope = displayed(briefing.query_one("#brief-scope", Static))
    assert scope.startswith(f"Briefing for agent {shown(HUB_AGENT)}, last 24 h")
    assert_no_raw_controls(app, "briefing")
    await pilot.press("a")  # every agent: the corpus sessions as active sessions
    await settle(pilot)
    active = displayed(briefing.query_one("#brief-active", Static))
    for session_id in made["ids"]:
        assert shown(session_id) in active
    assert_no_raw_controls(app, "briefing, all agents")


async def test_the_corpus_in_every_field_shows_literally_in_every_pane(
    store, clock, make_app, settle
):
    strings = list(STORABLE_STRINGS)
    made = fill(store, clock, strings)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await visit_every_pane(app, pilot, settle, strings, made)
        assert app.is_running


async def test_dialogs_and_toasts_show_stored_text_literally(store, clock, make_app, settle):
    fill(store, clock, list(ISSUE_STRINGS[:5]))
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_session(app, pilot, settle, HUB_SESSION)
        await pilot.press("D")  # delete: the confirmation names the session and agent
        await settle(pilot)
        title = displayed(app.screen.query_one(".dialog-title", Static))
        assert title == f"Delete session {shown(HUB_SESSION)}?"
        assert_no_raw_controls(app, "delete dialog")
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("e")  # extend: the toast quotes the id
        await settle(pilot)
        toast = app._notifications  # what is on screen now
        messages = [n.message for n in toast]
        assert any(m.startswith(f"{shown(HUB_SESSION)} extended: ") for m in messages), messages
        assert all(n.markup is False for n in toast)
        assert_no_raw_controls(app, "extend toast")


async def test_clicking_a_briefing_task_never_runs_an_action(store, clock, make_app, settle):
    tasks = ["[ @click=app.quit]x", "[@click=app.quit]quit[/]", "[@click=app.bell]ring"]
    store.create_session("claude", session_id="sess_click")  # only the tasks are hostile
    store.create_snapshot("sess_click", NewSnapshot(open_tasks=tasks))
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        briefing = await show_tab(app, pilot, settle, "5", "briefing")
        threads = briefing.query_one("#brief-threads", Static)
        for row in range(len(tasks)):
            for column in (4, 6, 10, 16):
                await pilot.click(threads, offset=(column, row))
                await pilot.pause()
        assert app.is_running, "a click on a stored task ran an action (quit)"
        assert app.return_code is None
        assert displayed(threads).splitlines()[0].startswith(f"  ☐ {tasks[0]}  ")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("files_modified", "\x1b[31mx"),  # tab 4: MarkupError before
        ("open_tasks", "arr[0"),  # tab 5: MarkupError before
        ("open_tasks", "[WIP] fix login"),  # shown as " fix login" before
        ("key_decisions", "[P1]: urgent"),  # shown as ": urgent" before
    ],
)
async def test_issue_snapshot_fields_render(store, make_app, settle, field, value):
    store.create_session("[1x", session_id="sess_issue")  # agent "[1x": MarkupError in tab 5
    store.create_snapshot("sess_issue", NewSnapshot(**{field: [value]}))
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_session(app, pilot, settle, "sess_issue")
        snapshots = await show_tab(app, pilot, settle, "4", "snapshots")
        assert shown(value) in displayed(snapshots.query_one("#snap-detail", Static))
        briefing = await show_tab(app, pilot, settle, "5", "briefing")
        active = displayed(briefing.query_one("#brief-active", Static))
        assert "[1x  sess_issue" in active
        if field == "open_tasks":
            assert f"  ☐ {value}  [1x · sess_issue · " in displayed(
                briefing.query_one("#brief-threads", Static)
            )
        assert_no_raw_controls(app, field)
        assert app.is_running


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(hostile_text(max_pieces=5), min_size=3, max_size=6),
    an_id=hostile_id(max_size=60),
)
def test_generated_text_in_every_field_shows_literally(make_app, settle, texts, an_id):
    """Arbitrary unicode, control characters and markup-looking brackets (hypothesis,
    derandomized): the same checks as the corpus test, on a fresh store each time."""
    from memtui.store import SqlStore
    from tests.conftest import FROZEN_NOW

    strings = list(dict.fromkeys([an_id, *texts]))

    async def scenario(path: Path) -> None:
        clock = ManualClock(FROZEN_NOW)
        store = SqlStore(f"sqlite:///{path}", clock=clock)
        try:
            made = fill(store, clock, strings)
            app = make_app(store, clock=clock)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await visit_every_pane(app, pilot, settle, strings, made)
        finally:
            store.close()

    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(scenario(Path(directory) / "store.db"))


async def test_context_save_suggests_a_safe_name_and_writes_the_exact_text(
    store, clock, make_app, settle, tmp_path, monkeypatch
):
    from textual.widgets import Input

    from memtui.tui.screens.prompt import PromptScreen

    monkeypatch.chdir(tmp_path)
    fill(store, clock, [s for s in ISSUE_STRINGS if "\x00" not in s])
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_session(app, pilot, settle, HUB_SESSION)
        context = await show_tab(app, pilot, settle, "3", "context-preview")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        suggested = app.screen.query_one(Input).value
        assert suggested == "context-WIP_hub_52_c_aGk_session.md"  # no raw ESC in the field
        assert_no_raw_controls(app, "save prompt")
        await pilot.press("enter")
        await settle(pilot)
        written = (tmp_path / suggested).read_bytes()
        assert written == context.result.context.encode("utf-8")
        assert b"\x1b]52;c;aGk=\x07" in written  # the exact stored bytes
