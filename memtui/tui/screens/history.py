"""The history of one memory, working-memory key or session (`h`), and the trash (`Z`).

Revisions read oldest first: when, what happened, who did it (`tui`, `cli`,
`mcp:<client>`, an API key's name), then what changed: a memory's content as a word
diff (removed words struck out in red, added ones in green), every other field as a JSON
diff. Every piece is a rich `Text` built from stored text made visible, never markup.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from memtui.domain.clock import ensure_utc
from memtui.domain.errors import MemtuiError
from memtui.domain.history import (
    HistoryTarget,
    Revision,
    TrashItem,
    describe_trash_item,
    revision_changes,
)
from memtui.domain.models import Capability
from memtui.domain.safe_text import visible_line, visible_text
from memtui.tui.workers import run_backend_call

REMOVED_STYLE = "strike #e06c75"
ADDED_STYLE = "bold #98c379"
ACTION_STYLES = {
    "created": "#98c379",
    "restored": "#98c379",
    "deleted": "#e06c75",
    "expired": "#e5c07b",
    "renamed_from": "#61afef",
    "renamed_to": "#61afef",
}

_SCREEN_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 92%; max-width: 120; height: 88%;
    border: thick $primary 80%; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; padding: 1 0 0 0; }}
{name} VerticalScroll {{ height: 1fr; }}
{name} DataTable {{ height: 1fr; }}
{name} .footer {{ color: $text-muted; }}
"""


def _value(value: Any) -> str:
    return visible_line(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _when(revision_at: Any) -> str:
    return ensure_utc(revision_at).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def revision_text(revision: Revision) -> Text:
    """One revision as a reader sees it: the header line, then what changed."""
    text = Text()
    text.append(_when(revision.at), style="dim")
    text.append("  ")
    text.append(revision.action, style=f"bold {ACTION_STYLES.get(revision.action, '')}".strip())
    text.append("  by ")
    text.append(visible_line(revision.actor) if revision.actor else "unknown", style="bold")
    if revision.after is not None and (revision.before is None):
        shown = revision.after
        if revision.action not in ("created", "restored", "renamed_from"):
            text.append("\n  (earlier history compacted; the state it kept:)", style="dim")
        for name, value in shown.items():
            text.append(f"\n  {visible_line(str(name))}: ", style="dim")
            if name == "content" and isinstance(value, str):
                text.append(visible_text(value))
            else:
                text.append(_value(value))
        return text
    if revision.after is None:
        return text
    words, fields = revision_changes(revision)
    if words is not None:
        text.append("\n  content: ", style="dim")
        for span in words:
            piece = visible_text(span.text)
            if span.op == "removed":
                text.append(piece, style=REMOVED_STYLE)
            elif span.op == "added":
                text.append(piece, style=ADDED_STYLE)
            else:
                text.append(piece)
    for change in fields:
        text.append(f"\n  {visible_line(change.path)}: ", style="dim")
        if change.op == "added":
            text.append(_value(change.after), style=ADDED_STYLE)
        elif change.op == "removed":
            text.append(_value(change.before), style=REMOVED_STYLE)
        else:
            text.append(_value(change.before), style=REMOVED_STYLE)
            text.append(" → ")
            text.append(_value(change.after), style=ADDED_STYLE)
    if words is None and not fields:
        text.append("\n  (nothing changed)", style="dim")
    return text


class HistoryScreen(ModalScreen[None]):
    """The revisions of one object, loaded when shown."""

    DEFAULT_CSS = _SCREEN_CSS.format(name="HistoryScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,h", "close", "Close", id="history-close"),
    ]

    def __init__(self, target: HistoryTarget) -> None:
        super().__init__()
        self.target = target
        self.revisions: list[Revision] | None = None

    def compose(self) -> ComposeResult:
        title = Text("History of ")
        title.append(visible_line(self.target.describe()))
        with Vertical():
            yield Label(title, classes="title")
            with VerticalScroll(id="history-scroll"):
                yield Static(Text("loading…", style="dim"), id="history-body")
            yield Label("escape close", classes="footer")

    def on_mount(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        body = self.query_one("#history-body", Static)
        if backend is None:
            body.update(Text("The store is not open.", style="dim"))
            return
        if Capability.HISTORY not in backend.capabilities():
            body.update(
                Text(
                    f"{backend.describe()} keeps no history (a plain Memtrace server "
                    "has none): nothing to show.",
                    style="dim",
                )
            )
            return
        target = self.target

        def loaded(revisions: list[Revision]) -> None:
            self.revisions = revisions
            if not revisions:
                body.update(
                    Text("No history: it is older than the retention, or unknown.", style="dim")
                )
                return
            body.update(Text("\n\n").join(revision_text(r) for r in revisions))
            self.query_one("#history-scroll", VerticalScroll).scroll_end(animate=False)

        def failed(error: MemtuiError) -> None:
            body.update(Text(f"Could not read the history: {error}", style="bold red"))

        run_backend_call(
            self,
            lambda backend: backend.history(target),
            on_done=loaded,
            on_error=failed,
            action="Reading the history",
            group="history-load",
        )

    def action_close(self) -> None:
        self.dismiss(None)


class TrashScreen(ModalScreen[None]):
    """The trash: enter restores the item under the cursor, p purges it for good."""

    DEFAULT_CSS = _SCREEN_CSS.format(name="TrashScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="trash-close"),
        Binding("enter,r", "restore", "Restore", id="trash-restore"),
        Binding("p", "purge", "Purge", id="trash-purge"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[TrashItem] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Trash: deleted memories, sessions and keys", classes="title")
            yield Static(Text("loading…", style="dim"), id="trash-message")
            table: DataTable[Text] = DataTable(id="trash-table", cursor_type="row")
            yield table
            yield Label("enter restore · p purge for good · escape close", classes="footer")

    def on_mount(self) -> None:
        self.query_one("#trash-table", DataTable).add_columns(
            "deleted", "what", "id", "by", "content"
        )
        self.reload()

    def reload(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        message = self.query_one("#trash-message", Static)
        if backend is None or Capability.TRASH not in backend.capabilities():
            name = backend.describe() if backend is not None else "The store"
            message.update(Text(f"{name} has no trash: deletes there are final.", style="dim"))
            return

        def loaded(items: list[TrashItem]) -> None:
            self.items = items
            table = self.query_one("#trash-table", DataTable)
            table.clear()
            for item in items:
                table.add_row(
                    Text(_when(item.deleted_at), style="dim"),
                    Text(item.entity.replace("_", " ")),
                    Text(visible_line(item.entity_id)),
                    Text(visible_line(item.actor or "?")),
                    Text(visible_line(" ".join(item.summary.split()))),
                )
            count = len(items)
            message.update(
                Text(f"{count} item{'s' if count != 1 else ''}", style="dim")
                if items
                else Text("The trash is empty.", style="dim")
            )
            table.focus()

        run_backend_call(
            self,
            lambda backend: backend.list_trash(),
            on_done=loaded,
            action="Reading the trash",
            group="trash-load",
        )

    @on(DataTable.RowSelected, "#trash-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()  # enter on a row: the table takes the key before the screen
        self.action_restore()

    def _current(self) -> TrashItem | None:
        table = self.query_one("#trash-table", DataTable)
        if not self.items or table.cursor_row < 0:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    def action_restore(self) -> None:
        item = self._current()
        if item is None:
            return

        def restored(done: TrashItem) -> None:
            self.app.notify(f"Restored {describe_trash_item(done)}.", title="Restored")
            self.reload()

        run_backend_call(
            self,
            lambda backend: backend.restore_from_trash(item.id),
            on_done=restored,
            action="Restoring",
            group="trash-write",
        )

    def action_purge(self) -> None:
        item = self._current()
        if item is None:
            return
        from memtui.tui.screens.confirm import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def purged(_: int) -> None:
                self.app.notify(f"Purged {describe_trash_item(item)} for good.")
                self.reload()

            run_backend_call(
                self,
                lambda backend: backend.purge_trash([item.id]),
                on_done=purged,
                action="Purging",
                group="trash-write",
            )

        self.app.push_screen(
            ConfirmScreen(
                "Purge for good?",
                f"{describe_trash_item(item)} and its history are deleted. This cannot be undone.",
                confirm_label="Purge",
            ),
            confirmed,
        )

    def action_close(self) -> None:
        self.dismiss(None)
