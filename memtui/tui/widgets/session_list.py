"""The session list: every session with a live countdown to expiry.

A DataTable is fine here (thousands of rows at most). The countdowns are driven by the
app's one 1 Hz timer (`tick`), which rewrites only the rows on screen; crossings of the
10-minute mark and of expiry are found from a heap of upcoming instants, so a toast is
raised for any session, visible or not, without scanning them all every second.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from memtui.domain.errors import InvalidInputError
from memtui.domain.expiry import (
    EXPIRING_SOON,
    EXPIRING_VERY_SOON,
    Urgency,
    format_duration,
    format_time_left,
    urgency,
)
from memtui.domain.filters import SessionFilter
from memtui.domain.models import Capability, Session, SessionStatus
from memtui.domain.session_sort import DEFAULT_SORT, SORT_KEYS, sort_sessions
from memtui.tui.messages import SessionSelected
from memtui.tui.palette import theme_colors
from memtui.tui.services import AppServices, app_services
from memtui.tui.stored_text import block, cell
from memtui.tui.widgets.list_table import ListTable
from memtui.tui.workers import run_backend_call, when_alive

if TYPE_CHECKING:
    from memtui.backend import Backend

# (key, label, width or None for the content's width)
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("agent", "Agent", 14),  # "code-assistant", "data-pipeline" whole
    ("session", "Session", 24),
    ("status", "Status", 7),
    ("left", "Left", 17),
)
# The column that shows each sort order's arrow (created has no column: the id's).
SORT_COLUMNS = {"left": "left", "agent": "agent", "status": "status", "created": "session"}


class SessionCounts(NamedTuple):
    active: int = 0
    expiring: int = 0  # active with under an hour left
    expired: int = 0
    closed: int = 0

    @classmethod
    def of(cls, sessions: Iterable[Session], now: datetime) -> SessionCounts:
        active = expiring = expired = closed = 0
        for session in sessions:
            status = session.effective_status(now)
            if status == SessionStatus.ACTIVE:
                active += 1
                left = session.time_left(now)
                if left is not None and left < EXPIRING_SOON:
                    expiring += 1
            elif status == SessionStatus.EXPIRED:
                expired += 1
            else:
                closed += 1
        return cls(active, expiring, expired, closed)


class SessionTable(ListTable[Text]):
    """A list table that tells its pane when the rows on screen change (scrolling)."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            pane = self.parent
            if isinstance(pane, SessionListPane):
                pane.refresh_visible_countdowns()


class SessionListPane(Widget):
    """Left pane. Posts `SessionSelected` when the highlighted session changes."""

    HELP: ClassVar[str] = """\
# Sessions

Every session of every agent, newest first, with a live countdown to expiry.
Rows turn **yellow** with under an hour left, **red** with under ten minutes, and
**dim red** once expired. A toast tells you when a session crosses ten minutes left and
when it expires.

## Filter (`/`)
Type words to match the session id, agent, workspace or metadata. Add
`agent:NAME` and `status:active|closed|expired|expiring`, e.g. `agent:claude status:expiring`.
Enter applies it (as in every filter of memtui); escape returns to the list.

## Sort (one key each, again to reverse; remembered)
| key | order |
|---|---|
| `T` | time left, the soonest deadline first |
| `A` | agent |
| `S` | status (active, expired, closed) |
| `C` | created, the newest first (the default) |

## Keys
| key | action |
|---|---|
| `n` | new session (agent, expiry such as `6h`/`30m`/`never`, metadata JSON) |
| `e` | extend by 6 hours (adds to the current expiry) |
| `E` | extend by any amount (`30m`, `2h`, `1d`) |
| `c` | close the session |
| `o` | reopen a closed session |
| `delete` / `D` | delete the session (asks first; its memories stay) |
| `enter` | open its timeline |
| `j` `k` `g` `G` `home` `end` `pgup` `pgdn` | move |
| `/` | filter |
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_session", "New", id="session-new"),
        Binding("e", "extend", "Extend +6h", id="session-extend"),
        Binding("E", "extend_by", "Extend by…", id="session-extend-by", show=False),
        Binding("c", "close_session", "Close", id="session-close"),
        Binding("o", "reopen_session", "Reopen", id="session-reopen", show=False),
        Binding("delete,D", "delete_session", "Delete", id="session-delete"),
        Binding("h", "history", "History", id="session-history", show=False),
        Binding("slash", "filter", "Filter", id="session-filter"),
        Binding("T", "sort('left')", "Sort: time left", show=False, id="session-sort-left"),
        Binding("A", "sort('agent')", "Sort: agent", show=False, id="session-sort-agent"),
        Binding("S", "sort('status')", "Sort: status", show=False, id="session-sort-status"),
        Binding("C", "sort('created')", "Sort: created", show=False, id="session-sort-created"),
    ]

    class CountsChanged(Message):
        def __init__(self, counts: SessionCounts) -> None:
            super().__init__()
            self.counts = counts

    DEFAULT_CSS = """
    SessionListPane #session-list-notice {
        display: none; height: auto; padding: 0 1;
        background: $error 15%; color: $text;
    }
    SessionListPane.-stale #session-list-notice { display: block; }
    SessionListPane.-stale #session-table { opacity: 60%; }
    """

    def __init__(self) -> None:
        super().__init__(id="session-list")
        self.sessions: dict[str, Session] = {}  # everything the backend returned
        self.shown_ids: list[str] = []  # the filtered rows, in table order
        self.filter = SessionFilter()
        self.counts = SessionCounts()
        self.from_cache = False
        self._cells: dict[str, tuple[str, Urgency]] = {}  # what each row shows now
        self._shown: dict[str, Session] = {}  # the session each row was drawn from
        self._thresholds: list[tuple[datetime, str, str]] = []  # (instant, id, kind)
        self._selected_id: str | None = None
        self._last_now: datetime | None = None
        self.sort_key = DEFAULT_SORT
        self.sort_reverse = False
        self._load_sort()
        # Stale: what is shown is not live (the store is not open, the server rejects
        # the key or cannot be reached). The rows stay, dimmed, with their age.
        self.loaded_at: datetime | None = None  # when the rows were read
        self.stale_reason: str | None = None

    # --- composition ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="/ filter: text  agent:NAME  status:active|expiring|expired|closed",
            id="session-filter",
        )
        yield Static("", id="session-filter-error", markup=False)
        yield Static("", id="session-list-notice", markup=False)
        table = SessionTable(id="session-table", cursor_type="row", zebra_stripes=False)
        for key, label, width in COLUMNS:
            table.add_column(self._column_label(key, label), key=key, width=width)
        yield table

    # --- sorting ----------------------------------------------------------------------

    def _load_sort(self) -> None:
        from memtui.config import load_config

        saved = load_config().get("session_sort")
        if isinstance(saved, dict) and saved.get("key") in SORT_KEYS:
            self.sort_key = str(saved["key"])
            self.sort_reverse = bool(saved.get("reverse", False))

    def _column_label(self, key: str, label: str) -> Text:
        if SORT_COLUMNS.get(self.sort_key) != key:
            return Text(label)
        return Text(f"{label} {'▲' if self.sort_reverse else '▼'}", style="bold")

    def action_sort(self, key: str) -> None:
        """k9s-style: one key per order; the same key again reverses it."""
        if key not in SORT_KEYS:
            return
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        table = self.table
        for column_key, label, _width in COLUMNS:
            table.columns[column_key].label = self._column_label(column_key, label)  # type: ignore[index]
        table.refresh()
        self._apply_filter(self.now)
        direction = " (reversed)" if self.sort_reverse else ""
        self.app.notify(f"Sessions sorted by {SORT_KEYS[key]}{direction}.", timeout=3)
        from memtui.config import update_config

        try:
            update_config(session_sort={"key": self.sort_key, "reverse": self.sort_reverse})
        except OSError as error:
            self.app.notify(f"Could not save the sort order: {error}", severity="warning")

    @property
    def services(self) -> AppServices:
        """The app's backend, clock, capabilities and error reporting, typed."""
        return app_services(self)

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    @property
    def now(self) -> datetime:
        return self.services.clock()

    @property
    def selected_session(self) -> Session | None:
        return self.sessions.get(self._selected_id) if self._selected_id else None

    # --- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Fetch every session in a worker, then update rows in place."""
        cache_key = self.services.cache_key

        def fetch(backend: Backend) -> list[Session]:
            sessions = backend.list_sessions()
            if cache_key:
                from memtui.tui.session_cache import write_cached_sessions

                write_cached_sessions(cache_key, sessions)
            return sessions

        run_backend_call(
            self,
            fetch,
            on_done=self.set_sessions,
            action="Loading sessions",
            group="session-list",
            exclusive=True,
        )

    def set_sessions(
        self,
        sessions: list[Session],
        *,
        from_cache: bool = False,
        as_of: datetime | None = None,
    ) -> None:
        now = self.now
        listed_before = not self.from_cache and self.loaded_at is not None
        gone = [sid for sid in self.sessions if listed_before and not from_cache]
        self.from_cache = from_cache
        self.loaded_at = as_of or now
        self.sessions = {session.id: session for session in sessions}
        gone = [sid for sid in gone if sid not in self.sessions]
        if gone:
            # Removed elsewhere, e.g. by the server's cleanup of expired sessions
            # (MemoryLayer deletes them every 5 minutes): a toast, not an error.
            shown = ", ".join(gone[:3]) + (f" and {len(gone) - 3} more" if len(gone) > 3 else "")
            self.app.notify(
                f"{shown} {'is' if len(gone) == 1 else 'are'} gone: removed on the server.",
                title="Sessions removed",
                timeout=6,
            )
        self._rebuild_thresholds(now)
        self._apply_filter(now)
        self._recount(now)
        if not from_cache:
            self._post_selection(force_if_changed=True)

    def upsert(self, session: Session) -> None:
        """One session changed (extend, close): update it without a full reload."""
        is_new = session.id not in self.sessions
        self.sessions[session.id] = session
        if is_new:
            self.sessions = {
                session.id: session,
                **{k: v for k, v in self.sessions.items() if k != session.id},
            }
        now = self.now
        self._rebuild_thresholds(now)
        self._apply_filter(now)
        self._recount(now)
        self._post_selection(force_if_changed=True)

    def remove(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        now = self.now
        self._rebuild_thresholds(now)
        self._apply_filter(now)
        self._recount(now)

    # --- rows -------------------------------------------------------------------------

    def _row_cells(self, session: Session, now: datetime, level: Urgency) -> list[Text]:
        colors = theme_colors(self.app)
        status = session.effective_status(now)
        style = ""
        if level == Urgency.SOON:
            style = colors["warning"]
        elif level == Urgency.VERY_SOON:
            style = f"bold {colors['error']}"
        elif level == Urgency.EXPIRED:
            style = f"dim {colors['error']}"
        elif status == SessionStatus.CLOSED:
            style = "dim"
        left = format_time_left(session, now)
        return [
            cell(session.agent_id, style, overflow="ellipsis", no_wrap=True),
            cell(session.id, style, no_wrap=True, overflow="ellipsis"),
            Text(status.value, style=style),
            Text(left, style=style, justify="right"),
        ]

    def _apply_filter(self, now: datetime) -> None:
        table = self.table
        shown = sort_sessions(
            (s for s in self.sessions.values() if self.filter.matches(s, now)),
            self.sort_key,
            now,
            reverse=self.sort_reverse,
        )
        shown_ids = [s.id for s in shown]
        if shown_ids == self.shown_ids and self._cells:
            # Same rows: rewrite only the sessions that changed (keeps scroll and cursor).
            for session in shown:
                if self._shown.get(session.id) != session:
                    self._update_row(session, now, force=True)
            self._shown = {session.id: session for session in shown}
            return
        self._shown = {session.id: session for session in shown}
        keep_id = self._selected_id
        old_row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            self._cells.clear()
            for session in shown:
                level = urgency(session, now)
                table.add_row(*self._row_cells(session, now, level), key=session.id)
                self._cells[session.id] = (format_time_left(session, now), level)
            self.shown_ids = shown_ids
            if keep_id in self._cells:
                table.move_cursor(row=shown_ids.index(keep_id), animate=False)
            elif shown_ids:
                table.move_cursor(row=min(max(old_row, 0), len(shown_ids) - 1), animate=False)

    def _update_row(self, session: Session, now: datetime, *, force: bool = False) -> None:
        text = format_time_left(session, now)
        level = urgency(session, now)
        if not force and self._cells.get(session.id) == (text, level):
            return
        previous = self._cells.get(session.id)
        self._cells[session.id] = (text, level)
        table = self.table
        cells = self._row_cells(session, now, level)
        try:
            if force or previous is None or previous[1] != level:
                for (key, _label, _width), cell in zip(COLUMNS, cells, strict=True):
                    table.update_cell(session.id, key, cell)
            else:
                table.update_cell(session.id, "left", cells[3])
        except Exception:  # the row went away between reload and tick
            return

    def visible_session_ids(self) -> list[str]:
        table = self.table
        if not self.shown_ids:
            return []
        first = int(table.scroll_y)
        height = max(table.scrollable_content_region.height - table.header_height, 1)
        return self.shown_ids[first : first + height + 1]

    @when_alive
    def refresh_visible_countdowns(self) -> None:
        now = self.now
        for session_id in self.visible_session_ids():
            session = self.sessions.get(session_id)
            if session is not None:
                self._update_row(session, now)

    # --- the 1 Hz tick ----------------------------------------------------------------

    # --- stale (not live) -----------------------------------------------------------------

    def set_stale(self, reason: str | None) -> None:
        """Mark the rows as not live (`reason`: what is wrong, in full), or live again
        (None). Stale rows are dimmed and their countdowns stop; a line above them
        says how old they are and why (issue 9 item 5)."""
        if reason == self.stale_reason:
            return
        self.stale_reason = reason
        self.set_class(reason is not None, "-stale")
        self._show_stale_notice()
        if reason is None:
            self.refresh_visible_countdowns()

    def _show_stale_notice(self) -> None:
        notice = self.query_one("#session-list-notice", Static)
        if self.stale_reason is None:
            notice.update("")
            return
        notice.update(Text(f"{self.describe_age()} · countdowns paused. {self.stale_reason}"))

    def describe_age(self) -> str:
        """`Cached list from 14:02 (3 min ago)`: what the dimmed rows are."""
        loaded = self.loaded_at
        if loaded is None:
            return "Cached list"
        from memtui.domain.clock import ensure_utc

        age = max(self.now - loaded, timedelta(0))
        if age < timedelta(minutes=1):
            ago = "just now"
        elif age < timedelta(hours=1):
            ago = f"{int(age.total_seconds() // 60)} min ago"
        else:
            ago = f"{format_duration(age)} ago"
        local = ensure_utc(loaded).astimezone().strftime("%H:%M")
        return f"Cached list from {local} ({ago})"

    @when_alive
    def tick(self, now: datetime) -> None:
        """Called once a second by the app: toasts for crossings, then visible rows."""
        if self.stale_reason is not None:
            self._show_stale_notice()  # the age grows; the countdowns stay put
            return
        self._last_now = now
        crossed = False
        while self._thresholds and self._thresholds[0][0] <= now:
            _instant, session_id, kind = heapq.heappop(self._thresholds)
            crossed = True
            session = self.sessions.get(session_id)
            if session is None or session.effective_status(now) == SessionStatus.CLOSED:
                continue
            if kind == "ten":
                self.app.notify(
                    f"{session_id} ({session.agent_id}) has less than 10 minutes left. "
                    "Press e to extend it.",
                    title="Session expiring",
                    severity="warning",
                    timeout=8,
                )
            elif kind == "expired":
                self.app.notify(
                    f"{session_id} ({session.agent_id}) has expired.",
                    title="Session expired",
                    severity="error",
                    timeout=8,
                )
        if crossed:
            self._recount(now)
        self.refresh_visible_countdowns()

    def _rebuild_thresholds(self, now: datetime) -> None:
        # From the last tick, not from now: a reload while a dialog held the ticks back
        # must not drop the crossings in between (their toasts come with the next tick).
        if self._last_now is not None and self._last_now < now:
            now = self._last_now
        heap: list[tuple[datetime, str, str]] = []
        for session in self.sessions.values():
            if session.status == SessionStatus.CLOSED or session.expires_at is None:
                continue
            for kind, before in (
                ("hour", EXPIRING_SOON),
                ("ten", EXPIRING_VERY_SOON),
                ("expired", timedelta(0)),
            ):
                instant = session.expires_at - before
                if instant > now:
                    heap.append((instant, session.id, kind))
        heapq.heapify(heap)
        self._thresholds = heap

    def _recount(self, now: datetime) -> None:
        counts = SessionCounts.of(self.sessions.values(), now)
        if counts != self.counts:
            self.counts = counts
        self.post_message(self.CountsChanged(counts))

    # --- selection --------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#session-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        if key != self._selected_id:
            self._selected_id = key
            self._post_selection()

    @on(DataTable.RowSelected, "#session-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.services.action_show_tab("timeline", focus=True)

    def _post_selection(self, *, force_if_changed: bool = False) -> None:
        if self.from_cache:
            return
        if self._selected_id not in self.sessions:
            self._selected_id = self.shown_ids[self.table.cursor_row] if self.shown_ids else None
        self.post_message(SessionSelected(self.selected_session))

    # --- filter -----------------------------------------------------------------------

    @on(Input.Submitted, "#session-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        """Applied on Enter, like the timeline's filter (every filter in memtui)."""
        event.stop()
        error_line = self.query_one("#session-filter-error", Static)
        try:
            self.filter = SessionFilter.parse(event.value)
        except InvalidInputError as error:
            error_line.update(block(str(error)))
            error_line.display = True
            return
        error_line.update("")
        error_line.display = False
        self._apply_filter(self.now)
        self._post_selection()
        self.table.focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        if key == "escape" and self.app.focused is self.query_one("#session-filter"):
            self.table.focus()
            getattr(event, "stop", lambda: None)()

    def action_filter(self) -> None:
        self.query_one("#session-filter", Input).focus()

    # --- actions ----------------------------------------------------------------------

    def _require(self, capability: str, what: str) -> bool:
        if self.services.has_capability(capability):
            return True
        self.app.notify(
            f"This backend cannot {what} (it has no {capability!s} support).",
            title="Not available",
            severity="warning",
        )
        return False

    def _offers(self, capability: str) -> bool:
        """True if the backend has `capability`; else says why not, in its words
        (MemoryLayer: sessions have no closed state)."""
        from memtui.tui.unsupported import refuse_unsupported

        return not refuse_unsupported(self, capability)

    def _store_ready(self, action: str) -> bool:
        return not self.services.refuse_without_store(action)

    def _current(self, action: str) -> Session | None:
        # A store that is not open is said first: the rows may be a cached list.
        if not self._store_ready(action):
            return None
        # The table's cursor, not the last RowHighlighted seen: keys typed quickly
        # (down, down, e) run the action before the highlight message is handled.
        table = self.table
        if self.shown_ids and 0 <= table.cursor_row < len(self.shown_ids):
            session = self.sessions.get(self.shown_ids[table.cursor_row])
        else:
            session = self.selected_session
        if session is None:
            self.app.notify("Select a session first.", severity="warning")
        return session

    def action_new_session(self) -> None:
        if not self._store_ready("New session"):
            return
        from memtui.tui.screens.forms import NewSessionForm, NewSessionScreen

        current = self.selected_session
        self.app.push_screen(
            NewSessionScreen(agent_id=current.agent_id if current else ""), self._create_session
        )
        _ = NewSessionForm  # the screen's result type

    def _create_session(self, form: object) -> None:
        from memtui.tui.screens.forms import NewSessionForm

        if not isinstance(form, NewSessionForm):
            return

        def create(backend: Backend) -> Session:
            return backend.create_session(
                form.agent_id,
                metadata=form.metadata,
                workspace_id=form.workspace_id,
                ttl=form.ttl,
            )

        def created(session: Session) -> None:
            self._selected_id = session.id
            self.upsert(session)
            self.app.notify(f"Created {session.id} for {session.agent_id}.")

        run_backend_call(self, create, on_done=created, action="New session", writes=True)

    def action_extend(self, by: timedelta | None = None) -> None:
        session = self._current("Extend")
        if session is None or not self._require(Capability.EXPIRY, "extend sessions"):
            return
        amount = by or timedelta(hours=6)

        def extend(backend: Backend) -> Session:
            return backend.extend_session(session.id, amount)

        def extended(updated: Session) -> None:
            self.upsert(updated)
            self.app.notify(
                f"{updated.id} extended: {format_time_left(updated, self.now)} left.",
                title="Extended",
            )

        run_backend_call(self, extend, on_done=extended, action="Extend", writes=True)

    def action_extend_by(self) -> None:
        session = self._current("Extend")
        if session is None or not self._require(Capability.EXPIRY, "extend sessions"):
            return
        from memtui.tui.screens.prompt import PromptScreen

        def parse(text: str) -> timedelta:
            from memtui.domain.timewindow import parse_duration

            return parse_duration(text.strip())

        def chosen(amount: timedelta | None) -> None:
            if amount is not None:
                self.action_extend(amount)

        self.app.push_screen(
            PromptScreen(
                f"Extend {session.id} by…",
                value="6h",
                hint="Any amount: 30m, 2h, 1d, 1w. It adds to the current expiry.",
                parse=parse,
            ),
            chosen,
        )

    def action_close_session(self) -> None:
        session = self._current("Close")
        if session is None or not self._offers(Capability.SESSION_CLOSE):
            return
        if session.status == SessionStatus.CLOSED:
            self.app.notify(f"{session.id} is already closed.", title="Nothing changed")
            return

        def closed(result: Session) -> None:
            self.upsert(result)
            self.app.notify(f"{result.id} closed.")

        run_backend_call(
            self,
            lambda backend: backend.close_session(session.id),
            on_done=closed,
            action="Close",
            writes=True,
        )

    def action_reopen_session(self) -> None:
        """Reopens a closed session. Says so, and changes nothing, when there is
        nothing to reopen (issue 9 item 6): an active session, or an expired one,
        which only more time (`e`) brings back."""
        session = self._current("Reopen")
        if session is None or not self._offers(Capability.SESSION_CLOSE):
            return
        now = self.now
        if session.status != SessionStatus.CLOSED:
            if session.effective_status(now) == SessionStatus.EXPIRED:
                message = (
                    f"{session.id} is not closed but expired: reopening changes nothing. "
                    "Press e to extend it (from now)."
                )
            else:
                message = f"{session.id} is already active: nothing to reopen."
            self.app.notify(message, title="Nothing changed", severity="warning")
            return

        def reopen(backend: Backend) -> Session:
            return backend.update_session(session.id, status=SessionStatus.ACTIVE.value)

        def reopened(result: Session) -> None:
            self.upsert(result)
            if result.effective_status(self.now) == SessionStatus.EXPIRED:
                self.app.notify(
                    f"{result.id} reopened, but its time has run out: it shows as expired. "
                    "Press e to extend it (from now).",
                    title="Reopened",
                    severity="warning",
                )
            else:
                left = format_time_left(result, self.now)
                when = "it never expires" if left == "never" else f"{left} left"
                self.app.notify(f"{result.id} reopened: {when}.", title="Reopened")

        run_backend_call(self, reopen, on_done=reopened, action="Reopen", writes=True)

    def action_history(self) -> None:
        """The history of the session under the cursor (h)."""
        session = self._current("History")
        if session is None:
            return
        from memtui.domain.history import HistoryTarget

        app_services(self).show_history(HistoryTarget.session(session.id))

    def action_delete_session(self) -> None:
        session = self._current("Delete session")
        if session is None or not self._require(Capability.SESSION_DELETE, "delete sessions"):
            return
        from memtui.tui.screens.confirm import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def delete(backend: Backend) -> None:
                backend.delete_session(session.id)

            def deleted(_: None) -> None:
                self.remove(session.id)
                self._post_selection()
                services = app_services(self)
                services.record_delete("session", [session.id], session.id)
                undo = " (z undoes)" if services.has_capability(Capability.TRASH) else ""
                self.app.notify(f"Deleted {session.id}.{undo}")

            run_backend_call(self, delete, on_done=deleted, action="Delete session", writes=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete session {session.id}?",
                f"Agent {session.agent_id}. Its working memory and snapshots are removed; "
                "its memories stay. "
                + (
                    "It goes to the trash: z undoes."
                    if app_services(self).has_capability(Capability.TRASH)
                    else "This cannot be undone."
                ),
            ),
            confirmed,
        )

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Session: new", "Create a session (agent, expiry, metadata)", self.action_new_session
        )
        yield SystemCommand(
            "Session: extend +6h", "Add six hours to the selected session", self.action_extend
        )
        yield SystemCommand(
            "Session: extend by…", "Add any amount (30m, 2h, 1d)", self.action_extend_by
        )
        yield SystemCommand(
            "Session: close", "Close the selected session", self.action_close_session
        )
        yield SystemCommand(
            "Session: reopen", "Reopen the selected session", self.action_reopen_session
        )
        yield SystemCommand(
            "Session: delete",
            "Delete the selected session (asks first)",
            self.action_delete_session,
        )
        yield SystemCommand(
            "Session: filter", "Filter sessions by text, agent:, status:", self.action_filter
        )
