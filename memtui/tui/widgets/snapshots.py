"""The session's snapshots (seed 003): newest first, with the selected one's files
modified, key decisions and open tasks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import ContentSwitcher, DataTable, Static

from memtui.domain.errors import MemtuiError
from memtui.domain.models import Capability, ChangeKind, Session, Snapshot
from memtui.tui.messages import StoreChanged
from memtui.tui.stored_text import block, cell, join, line
from memtui.tui.widgets.list_table import ListTable
from memtui.tui.widgets.pane import SessionPane
from memtui.tui.widgets.working_memory import local_time

_EVENT_LABELS = {
    "pre_compact": "pre-compact",
    "session_end": "session end",
    "checkpoint": "checkpoint",
}


def describe_snapshot(snapshot: Snapshot) -> Content:
    """The detail view of one snapshot. Every field is stored text: built as Content
    (never markup), each entry on one line with its control characters visible."""

    def section(title: str, entries: list[str], bullet: str) -> list[Content]:
        lines = [join((title, "b"), f" ({len(entries)})")]
        if entries:
            lines += [join(f"  {bullet} ", line(entry)) for entry in entries]
        else:
            lines.append(join("  ", ("none", "dim")))
        return [*lines, Content("")]

    event = _EVENT_LABELS.get(snapshot.event, snapshot.event)
    lines = [
        join(line(event, "b $accent"), f" · {local_time(snapshot.created_at)}"),
        join("agent ", line(snapshot.agent_id)).stylize("dim"),
        Content(""),
    ]
    if snapshot.project_path:
        lines += [join(("Project", "b"), "  ", line(snapshot.project_path)), Content("")]
    lines += section("Files modified", snapshot.files_modified, "•")
    lines += section("Key decisions", snapshot.key_decisions, "◆")
    lines += section("Open tasks", snapshot.open_tasks, "☐")
    return Content("\n").join(lines[:-1])


class SnapshotsPane(SessionPane):
    """Beside the editors: what the agent recorded at checkpoints, compactions and ends."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    HELP = """\
# Snapshots

Snapshots are what an agent records about its work at a **checkpoint**, before its
context is compacted (**pre-compact**) and at **session end**: the project path, the
files it modified, its key decisions and its open tasks.

| key | action |
|---|---|
| ↑ ↓ | choose a snapshot (newest first) |
| enter | read its details (scrollable) |
| r | reload |

Times are shown in your local time. New snapshots appear by themselves.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload", id="snapshots-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(id="snapshots")
        self._session_id: str | None = None
        self._snapshots: dict[str, Snapshot] = {}
        self._selected_id: str | None = None
        self._generation = 0
        self._supported: bool | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="snap-message", id="snap-switcher"):
            yield Static("Select a session to see its snapshots.", id="snap-message")
            with Horizontal(id="snap-main"):
                yield ListTable(id="snap-list", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="snap-detail-scroll"):
                    yield Static("", id="snap-detail")

    def on_mount(self) -> None:
        table = self.query_one("#snap-list", DataTable)
        table.add_column("event", key="event")
        table.add_column("time", key="time")
        table.add_column("files", key="files")
        table.add_column("tasks", key="tasks")

    @property
    def snapshot_ids(self) -> list[str]:
        """The listed snapshots' ids, in display order (newest first)."""
        return list(self._snapshots)

    @property
    def selected_snapshot(self) -> Snapshot | None:
        return self._snapshots.get(self._selected_id or "")

    def _show_message(self, text: str | Content) -> None:
        # Messages quote stored ids and errors: never markup.
        self.query_one("#snap-message", Static).update(
            text if isinstance(text, Content) else block(text)
        )
        self.query_one("#snap-switcher", ContentSwitcher).current = "snap-message"

    def watch_session(self, session: Session | None) -> None:
        new_id = session.id if session else None
        if new_id != self._session_id:
            self._session_id = new_id
            self._snapshots = {}
            self._selected_id = None
            self.query_one("#snap-list", DataTable).clear()
            self.query_one("#snap-detail", Static).update("")
            if new_id is None:
                self._show_message("Select a session to see its snapshots.")
                return
            self._show_message(join("Loading snapshots of ", line(new_id), "…"))
        self.action_reload()

    def action_reload(self) -> None:
        if self._session_id is None:
            return
        self._generation += 1
        self._load_worker(self._session_id, self._generation)

    @work(thread=True, exclusive=True, group="snapshots-load", exit_on_error=False)
    def _load_worker(self, session_id: str, generation: int) -> None:
        try:
            if Capability.SNAPSHOTS not in self.backend.capabilities():
                self.deliver(self._show_unsupported, session_id)
                return
            snapshots = self.backend.list_snapshots(session_id)
        except MemtuiError as error:
            self.deliver(self._load_failed, session_id, generation, error)
            return
        except Exception as error:
            wrapped = MemtuiError(f"unexpected {type(error).__name__}: {error}")
            self.deliver(self._load_failed, session_id, generation, wrapped)
            return
        self.deliver(self._apply, session_id, generation, snapshots)

    def _show_unsupported(self, session_id: str) -> None:
        self._supported = False
        if session_id == self._session_id:
            self._show_message(
                "This backend has no snapshots.\n\n"
                f"{self.backend.describe()} speaks plain Memtrace, which does not record "
                "session snapshots (files modified, key decisions, open tasks). A memtui "
                "store or `memtui serve` does."
            )

    def _load_failed(self, session_id: str, generation: int, error: MemtuiError) -> None:
        if session_id != self._session_id or generation != self._generation:
            return
        if not self._snapshots:
            self._show_message(f"Could not load snapshots: {error}")
        self.report_error(error, action="Snapshots")

    def _apply(self, session_id: str, generation: int, snapshots: list[Snapshot]) -> None:
        if session_id != self._session_id or generation != self._generation:
            return
        self._supported = True
        ordered = sorted(snapshots, key=lambda s: (s.created_at, s.id), reverse=True)
        self._snapshots = {snapshot.id: snapshot for snapshot in ordered}
        if not ordered:
            self._show_message(
                join(
                    line(session_id),
                    " has no snapshots yet. Agents save them at checkpoints, "
                    "before compaction and at session end.",
                )
            )
            return
        self.query_one("#snap-switcher", ContentSwitcher).current = "snap-main"
        table = self.query_one("#snap-list", DataTable)
        keep = self._selected_id if self._selected_id in self._snapshots else ordered[0].id
        table.clear()
        for snapshot in ordered:
            table.add_row(
                cell(_EVENT_LABELS.get(snapshot.event, snapshot.event)),
                local_time(snapshot.created_at, "%m-%d %H:%M"),
                str(len(snapshot.files_modified)),
                str(len(snapshot.open_tasks)),
                key=snapshot.id,
            )
        table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._select(keep)

    def _select(self, snapshot_id: str) -> None:
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            return
        self._selected_id = snapshot_id
        self.query_one("#snap-detail", Static).update(describe_snapshot(snapshot))

    @on(DataTable.RowHighlighted, "#snap-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != event.data_table.cursor_row or event.row_key.value is None:
            return
        self._select(event.row_key.value)

    @on(DataTable.RowSelected, "#snap-list")
    def _selected(self) -> None:
        self.query_one("#snap-detail-scroll", VerticalScroll).focus()

    def on_store_changed(self, message: StoreChanged) -> None:
        if self._session_id is None or self._supported is False:
            return
        if message.full_refresh or any(
            change.session_id == self._session_id and change.kind == ChangeKind.SNAPSHOT_CREATED
            for change in message.changes
        ):
            self.action_reload()

    def palette_commands(self) -> Iterable[SystemCommand]:
        return [
            SystemCommand(
                "Snapshots: reload", "Reload the session's snapshots (r)", self.action_reload
            )
        ]
