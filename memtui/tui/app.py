"""The memtui Textual app: session list on the left, the selected session's panes on
the right, a status line and the footer.

Fast start: with a `target` the app paints first (from the cached session list when
there is one) and opens the backend in a thread worker, so importing the store
(sqlmodel, ~300 ms) never delays the first screen. Every backend call runs in a worker.
Live: one change-feed follower polls `changes_since` and schedules its next poll only
when the last one has finished; every pane gets a `StoreChanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane

from memtui.domain.clock import Clock, utc_now
from memtui.domain.errors import AuthError, BackendUnavailableError, MemtuiError
from memtui.domain.history import HistoryTarget, TrashItem, describe_trash_item
from memtui.domain.models import Capability, Change, Session
from memtui.domain.safe_text import visible_line, visible_text
from memtui.tui.executor import DaemonExecutor, pending_writes
from memtui.tui.keymap import keys_help, read_keymap
from memtui.tui.messages import SessionSelected, StoreChanged
from memtui.tui.panes import PANES, PaneSpec
from memtui.tui.undo import UndoEntry, restore_entry
from memtui.tui.widgets.pane import SessionPane
from memtui.tui.widgets.session_list import SessionListPane
from memtui.tui.widgets.status_bar import StatusBar
from memtui.tui.workers import (
    deliver_from_thread,
    describe_unexpected,
    is_alive,
    run_backend_call,
    when_alive,
)

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import AwaitMount
    from textual.worker import Worker

    from memtui.backend import Backend
    from memtui.connect import BackendTarget
    from memtui.tui.services import AppServices

HERE = Path(__file__).parent
# Each widget module may keep its styles in a .tcss file beside it. The first screen's
# are read at startup; a side pane's are read when its tab is first shown.
CSS_FILES = [
    HERE / "app.tcss",
    HERE / "widgets" / "session_list.tcss",
    *(path for spec in PANES if spec.eager and (path := spec.css_path) is not None),
]

STACK_BELOW_COLUMNS = 160  # narrower terminals put the session list above the panes
COMPACT_FOOTER_BELOW = 120  # columns: a compact footer without the palette's key
FULL_REFRESH_EVERY = 2.0  # seconds, for backends without a change feed (MemoryLayer)
CACHED_ROWS_SHOWN = 60  # a screenful of sessions for the first frame (the store fills the rest)
MAX_POLL_BACKOFF = 15.0
QUIT_WAITS_FOR_WRITES = 10.0  # seconds at most; a store that hangs longer is not waited for

_TAB_KEYS = f"`{PANES[0].key}`…`{PANES[-1].key}`"
_TAB_LABELS = " · ".join(spec.label for spec in PANES)
APP_HELP = f"""\
## Everywhere
| key | action |
|---|---|
| `tab` / `shift+tab` | move focus between the session list and the pane |
| `escape` | leave an editor or input; again: back to the session list |
| {_TAB_KEYS} | {_TAB_LABELS} (when not typing) |
| `j` `k` `g` `G` `home` `end` `pgup` `pgdn` | move in every list |
| `ctrl+p` | command palette: every action, the theme |
| `r` | reload everything from the store |
| `h` | the history of the memory, key or session under the cursor |
| `z` | undo the last delete made here (again: the one before) |
| `Z` | the trash: restore or purge what was deleted |
| `F1` / `?` | help for the focused pane |
| `q` / `ctrl+q` | quit |

The focused pane is marked by the accent bar on its left.

The status line shows the store (secrets masked), how many sessions are active,
expiring within the hour, expired and closed, and whether live updates are flowing.
Changes written by other processes appear within about a second.
"""


class DeferredPane(Widget):
    """Holds a tab's place until the tab is first shown, then imports and mounts its
    pane. Startup (and every test that never opens the tab) pays neither for the
    module (markdown, editors) nor for its few hundred widgets and their styles; the
    pane adopts the selected session when it mounts."""

    DEFAULT_CSS = "DeferredPane { height: 1fr; }"

    def __init__(self, spec: PaneSpec) -> None:
        super().__init__()
        self.spec = spec
        self.pane: SessionPane | None = None
        self._mounting: AwaitMount | None = None

    def on_show(self) -> None:  # the tab was opened with the mouse
        self.call_later(self.ensure_mounted)

    async def ensure_mounted(self) -> SessionPane | None:
        if self.pane is None:
            if not is_alive(self):
                return None
            if (css := self.spec.css_path) is not None:
                _add_app_css(self.app, css)
            self.pane = self.spec.create()
            self._mounting = self.mount(self.pane)
        if self._mounting is not None:
            await self._mounting
            self._mounting = None
        return self.pane


def _add_app_css(app: App[Any], path: Path) -> None:
    """Read a .tcss file into the app's stylesheet, as the app's own CSS (what Textual
    does for a screen's CSS_PATH when the screen is first shown)."""
    stylesheet = app.stylesheet
    if path.is_file() and not stylesheet.has_source(str(path), ""):
        stylesheet.read(path)
        stylesheet.reparse()
        stylesheet.update(app)


class SessionPanes(Widget):
    """The right-hand side: one tab per pane of the selected session. Its tabs are
    composed just after the first frame, which then needs only the session list."""

    DEFAULT_CSS = "SessionPanes { width: 1fr; height: 1fr; }"

    def __init__(self) -> None:
        super().__init__(id="session-panes")
        self._ready = False

    def compose(self) -> ComposeResult:
        if not self._ready:
            return
        with TabbedContent(id="tabs", initial=PANES[0].tab_id):
            for spec in PANES:
                with TabPane(f"{spec.key} {spec.label}", id=spec.tab_id):
                    yield spec.create() if spec.eager else DeferredPane(spec)

    def on_mount(self) -> None:
        self.call_after_refresh(self._compose_tabs)

    async def _compose_tabs(self) -> None:
        if is_alive(self):
            self._ready = True
            await self.recompose()


class MemtuiApp(App[None]):
    TITLE = "memtui"
    SUB_TITLE = "agent memory"
    CSS_PATH: ClassVar[list[str | Path]] = CSS_FILES  # type: ignore[assignment]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit-now"),
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help-question-mark"),
        Binding("escape", "leave", "Back", show=False, id="leave-pane"),
        Binding("r", "refresh", "Reload", show=False, id="refresh"),
        Binding("z", "undo", "Undo", show=False, id="undo"),
        Binding("Z", "show_trash", "Trash", show=False, id="trash"),
        # The footer shows the first tab key as "1-5 Tabs"; the others work the same.
        *(
            Binding(
                spec.key,
                f"show_tab('{spec.id}', True)",
                "Tabs" if index == 0 else spec.label,
                show=index == 0,
                key_display=f"{PANES[0].key}-{PANES[-1].key}" if index == 0 else None,
                id=spec.binding_id,
            )
            for index, spec in enumerate(PANES)
        ),
    ]

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        target: BackendTarget | None = None,
        clock: Clock = utc_now,
        poll_interval: float = 1.0,
    ) -> None:
        super().__init__()
        if backend is None and target is None:
            raise ValueError("MemtuiApp needs a backend or a target")
        self.backend: Backend | None = backend
        self.target = target
        self.clock = clock
        self.poll_interval = poll_interval
        self.capabilities: frozenset[str] = frozenset()
        self.undo_stack: list[UndoEntry] = []  # deletes made here, newest last (z)
        self.change_cursor: int | None = None
        self.selected_session: Session | None = None  # what the panes show
        self.fatal_error: str | None = None
        self.cache_key: str | None = _cache_key(target) if target is not None else None
        self._tick_timer: Timer | None = None
        self._poll_timer: Timer | None = None
        self._poll_failures = 0
        self._since_full_refresh = 0.0
        self._saved_theme: str | None = None
        self.user_keymap: dict[str, str] = {}  # from the config, checked
        # Shown instead of backend.describe() when set (tests: a stable status line).
        self.backend_label: str | None = None

    # --- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="⛁")
        with Horizontal(id="main"):
            yield SessionListPane()
            yield SessionPanes()
        yield StatusBar()
        yield Footer()

    @property
    def session_list(self) -> SessionListPane:
        return self.query_one(SessionListPane)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def services(self) -> AppServices:
        """What panes may use, typed (`memtui.tui.services`)."""
        return self

    def has_capability(self, capability: str) -> bool:
        return capability in self.capabilities

    def session_panes(self) -> list[SessionPane]:
        return list(self.query(SessionPane))

    # --- startup ---------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._fit_layout(event.size.width)

    def _fit_layout(self, width: int) -> None:
        with contextlib.suppress(NoMatches):  # not composed yet
            self.query_one("#main").set_class(width < STACK_BELOW_COLUMNS, "-stacked")
            # Narrow terminals keep every key in the footer: less padding, and the
            # palette's ^p (also in the help) gives its place to them (issue 9 item 7).
            footer = self.query_one(Footer)
            footer.compact = width < COMPACT_FOOTER_BELOW
            footer.show_command_palette = width >= COMPACT_FOOTER_BELOW

    def on_mount(self) -> None:
        self._fit_layout(self.size.width)
        from memtui.config import load_config

        config = load_config()
        self._apply_keymap(config)
        self._restore_theme(config)
        self._tick_timer = self.set_interval(1.0, self.tick, name="countdowns")
        self.session_list.table.focus()
        if self.backend is not None:
            self._connect(self.backend)
            return
        assert self.target is not None
        self.status_bar.backend_text = _describe_target(self.target)
        first_screen = self._first_screen_sessions(self.target)
        if first_screen is not None:
            sessions, state = first_screen
            # A screenful is enough to paint; the store's full list replaces it.
            as_of = None
            if state == "cached" and self.cache_key is not None:
                from memtui.tui.session_cache import cached_sessions_time

                as_of = cached_sessions_time(self.cache_key)
            self.session_list.set_sessions(sessions, from_cache=True, as_of=as_of)
            self.status_bar.state = state
            # Open the store once that frame is out: its import (sqlmodel) would
            # otherwise hold the GIL while the first frame is being drawn.
            self.call_after_refresh(self._open_target, self.target)
            return
        self._open_target(self.target)

    def _first_screen_sessions(self, target: BackendTarget) -> tuple[list[Session], str] | None:
        """Sessions to paint before the store is open, and the status line's state:
        a SQLite file read directly (fresh), else the cached list (as last seen)."""
        from memtui.tui.session_cache import read_cached_sessions, read_store_sessions

        if target.db_url and not target.is_remote:
            sessions = read_store_sessions(target.db_url, CACHED_ROWS_SHOWN)
            if sessions:
                return sessions, "opening"
        if self.cache_key is not None:
            cached = read_cached_sessions(self.cache_key, limit=CACHED_ROWS_SHOWN)
            if cached:
                return cached, "cached"
        return None

    def _open_target(self, target: BackendTarget) -> None:
        clock = self.clock

        def open_() -> None:
            try:
                from memtui.connect import open_backend

                backend = open_backend(target, clock=clock)
            except MemtuiError as error:
                deliver_from_thread(self, self._open_failed, str(error))
                return
            except Exception as error:  # e.g. a driver error the store did not wrap
                deliver_from_thread(self, self._open_failed, describe_unexpected(error))
                return
            deliver_from_thread(self, self._connect, backend)

        self.run_worker(open_, thread=True, name="open backend", group="open", exit_on_error=False)

    @when_alive
    def _open_failed(self, message: str) -> None:
        self.fatal_error = f"Cannot open the store: {message}"
        self.status_bar.state = "error"
        self.status_bar.detail = "store not open"
        if self.session_list.shown_ids:
            self.session_list.set_stale(self.fatal_error)
        self.notify(self.fatal_error, title="memtui", severity="error", timeout=30)

    def _connect(self, backend: Backend) -> None:
        """The backend is open: learn what it can do and where its change feed is."""
        self.backend = backend
        if not self.is_running:
            return
        self.status_bar.backend_text = self.backend_label or _safe_describe(backend)

        def probe(backend: Backend) -> tuple[frozenset[str], int | None]:
            capabilities = frozenset(backend.capabilities())
            cursor = backend.latest_change_id() if Capability.EVENTS in capabilities else None
            return capabilities, cursor

        def ready(result: tuple[frozenset[str], int | None]) -> None:
            self.capabilities, self.change_cursor = result
            if not self.is_running:
                return
            # Asking the server may have told what it is (MemoryLayer): say so.
            self.status_bar.backend_text = self.backend_label or _safe_describe(backend)
            self.status_bar.state = "live" if self.change_cursor is not None else "polling"
            self.session_list.reload()
            self._schedule_poll()

        def failed(error: MemtuiError) -> None:
            self.report_backend_error(error, action="Connecting")
            self._schedule_poll(retry_connect=True)

        run_backend_call(
            self,
            probe,
            on_done=ready,
            on_error=failed,
            action="Connecting",
            group="connect",
            exclusive=True,
        )

    # --- the 1 Hz tick ---------------------------------------------------------------

    @when_alive
    def tick(self) -> None:
        """Countdowns: skipped while a modal covers the list (nothing visible changes)."""
        if len(self.screen_stack) != 1:
            return
        try:
            session_list = self.session_list
        except NoMatches:  # mounting or shutting down
            return
        if session_list.from_cache and self.backend is None and not session_list.stale_reason:
            return  # painted from the cache while the store opens: nothing to count yet
        session_list.tick(self.clock())

    # --- live updates ----------------------------------------------------------------

    def _schedule_poll(self, *, retry_connect: bool = False) -> None:
        delay = self.poll_interval
        if self._poll_failures:
            delay = min(self.poll_interval * (2**self._poll_failures), MAX_POLL_BACKOFF)
        if self._poll_timer is not None:
            self._poll_timer.stop()
        callback = self._retry_connect if retry_connect else self._poll
        self._poll_timer = self.set_timer(delay, callback, name="change feed")

    @when_alive
    def _retry_connect(self) -> None:
        if self.backend is not None:
            self._poll_failures += 1
            self._connect(self.backend)

    @when_alive
    def _poll(self) -> None:
        if self.backend is None:
            return
        if self.change_cursor is None:
            self._since_full_refresh += self.poll_interval
            if self._since_full_refresh >= FULL_REFRESH_EVERY:
                self._since_full_refresh = 0.0
                self.broadcast_changes([], full_refresh=True)
            self._schedule_poll()
            return
        cursor = self.change_cursor

        def follow(backend: Backend) -> list[Change]:
            changes: list[Change] = []
            position = cursor
            for _ in range(20):  # drain a burst, but never forever
                batch = backend.changes_since(position, limit=1000)
                changes.extend(batch)
                if len(batch) < 1000:
                    break
                position = batch[-1].id
            return changes

        def followed(changes: list[Change]) -> None:
            self._poll_failures = 0
            if changes:
                self.change_cursor = changes[-1].id
                self.broadcast_changes(changes)
            self._schedule_poll()

        def failed(error: MemtuiError) -> None:
            self._poll_failures += 1
            self.report_backend_error(error, action="Live updates", quiet=self._poll_failures > 1)
            self._schedule_poll()

        run_backend_call(
            self,
            follow,
            on_done=followed,
            on_error=failed,
            action="Live updates",
            group="change-feed",
            exclusive=True,
        )

    def broadcast_changes(self, changes: list[Change], *, full_refresh: bool = False) -> None:
        """Tell the session list and every pane what changed."""
        if full_refresh or any(c.kind.startswith(("session.", "agent.")) for c in changes):
            self.session_list.reload()
        for pane in self.session_panes():
            pane.post_message(StoreChanged(changes, full_refresh=full_refresh))

    # --- history, trash and undo (issue 13) -------------------------------------------

    def show_history(self, target: HistoryTarget) -> None:
        """The history screen of a memory, key or session."""
        from memtui.tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen(target))

    def action_show_trash(self) -> None:
        from memtui.tui.screens.history import TrashScreen

        self.push_screen(TrashScreen())

    def record_delete(self, entity: str, ids: list[str], session_id: str | None) -> None:
        """Remember a delete made in this TUI, so that `z` can undo it."""
        if ids and self.has_capability(Capability.TRASH):
            self.undo_stack.append(UndoEntry(entity, tuple(ids), session_id))

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo: no delete was made here.", severity="warning")
            return
        entry = self.undo_stack.pop()

        def undo(backend: Backend) -> list[TrashItem]:
            return restore_entry(backend, entry)

        def undone(items: list[TrashItem]) -> None:
            what = ", ".join(describe_trash_item(item) for item in items[:3])
            if len(items) > 3:
                what += f" and {len(items) - 3} more"
            self.notify(f"Undid the delete: restored {what}.", title="Undo")
            self.action_refresh()

        def failed(error: MemtuiError) -> None:
            self.notify(f"Could not undo: {error}", severity="error", timeout=8)

        run_backend_call(self, undo, on_done=undone, on_error=failed, action="Undo", group="undo")

    def action_refresh(self) -> None:
        if self.backend is None:
            return
        self.broadcast_changes([], full_refresh=True)
        self.notify("Reloaded.", timeout=2)

    # --- selection -------------------------------------------------------------------

    @on(SessionSelected)
    def _session_selected(self, message: SessionSelected) -> None:
        session = message.session
        self.selected_session = session
        for pane in self.session_panes():
            current = pane.session
            if _same_session(current, session):
                # The same session, updated (extended, closed): no reload, no disturbance.
                pane.set_reactive(SessionPane.session, session)
            else:
                pane.session = session

    @on(SessionListPane.CountsChanged)
    @when_alive  # posted while the status bar may already be gone (shutting down)
    def _counts_changed(self, message: SessionListPane.CountsChanged) -> None:
        self.status_bar.counts = message.counts

    # --- errors and connection state -------------------------------------------------

    @when_alive
    def report_backend_error(
        self, error: MemtuiError, *, action: str = "", quiet: bool = False
    ) -> None:
        prefix = f"{action}: " if action else ""
        if isinstance(error, BackendUnavailableError | AuthError):
            # Not live: a short state in the status line; the full message once, in a
            # toast and above the (now dimmed) session list, not again on each retry.
            repeated = self.session_list.stale_reason == str(error)
            self.status_bar.state = "error"
            remote = (self.target is not None and self.target.is_remote) or hasattr(
                self.backend, "base_url"
            )
            self.status_bar.detail = _short_problem(error, remote)
            self.session_list.set_stale(str(error))
            quiet = quiet or repeated
        if not quiet:
            self.notify(f"{prefix}{error}", title="memtui", severity="error", timeout=8)

    def store_not_open_reason(self) -> str | None:
        """Why no action can reach the store now (None: it is open)."""
        if self.backend is not None:
            return None
        if self.fatal_error:
            return self.fatal_error
        return "The store is still opening; try again in a moment."

    def refuse_without_store(self, action: str) -> bool:
        """True (and says why, once per attempt) when the store is not open, so an
        action stops before it asks for input it could never save (issue 9 item 3)."""
        reason = self.store_not_open_reason()
        if reason is None:
            return False
        self.notify(
            f"{action}: the store is not open. {reason}",
            title="Not available",
            severity="error",
            timeout=10,
        )
        return True

    @when_alive
    def mark_backend_ok(self) -> None:
        if self.status_bar.state == "error" and self.fatal_error is None:
            self.status_bar.state = "live" if self.change_cursor is not None else "polling"
            self.session_list.set_stale(None)

    # --- tabs, help, palette ---------------------------------------------------------

    def action_show_tab(self, tab: str, focus: bool = False) -> None:
        found = self.query("#tabs").results(TabbedContent)
        tabs = next(found, None)
        if tabs is None:
            return  # a key typed before the first frame was out: the tabs come next
        tabs.active = f"tab-{tab}"
        pane = tabs.query_one(f"#tab-{tab}", TabPane)
        self.call_later(self._tab_shown, pane, focus)

    async def _tab_shown(self, pane: TabPane, focus: bool) -> None:
        for deferred in pane.query(DeferredPane):  # mounted the first time it shows
            await deferred.ensure_mounted()
        if focus:
            self.call_after_refresh(_focus_first, pane)

    def show_memory_in_timeline(self, memory_id: str) -> None:
        """The timeline tab, its cursor on `memory_id` (from the context's explain view)."""
        from memtui.tui.widgets.timeline import TimelinePane

        self.action_show_tab("timeline")
        self.query_one(TimelinePane).reveal(memory_id)

    def focused_pane(self) -> Widget:
        node = self.focused
        while node is not None:
            if isinstance(node, SessionPane | SessionListPane):
                return node
            node = node.parent  # type: ignore[assignment]
        return self.active_pane() or self.session_list

    def active_pane(self) -> SessionPane | None:
        """The pane of the tab on show (None: its pane is not mounted yet)."""
        tabs = next(self.query("#tabs").results(TabbedContent), None)
        if tabs is None:
            return None
        panes = tabs.get_pane(tabs.active).query(SessionPane)
        return panes.first() if panes else None

    def action_leave(self) -> None:
        """Escape (when nothing nearer used it): out of a text field first, to its
        pane's list; from anywhere else back to the session list (issue 9)."""
        focused = self.focused
        if focused is None or self.screen is not self.screen_stack[0]:
            return
        session_table = self.session_list.table
        if focused is session_table:
            return
        if is_text_field(focused):
            pane = self.focused_pane()
            if pane is not self.session_list and _focus_first(pane, fallback=False):
                return
        session_table.focus()

    def action_help(self) -> None:
        from memtui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        pane = self.focused_pane()
        text = getattr(pane, "HELP", "") or f"# {type(pane).__name__}"
        title = f"Help · {text.splitlines()[0].lstrip('# ').strip()}"
        keys = keys_help(self.user_keymap)
        self.push_screen(HelpScreen(title, f"{text}\n\n{APP_HELP}\n{keys}"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Help for the focused pane (F1)", self.action_help)
        yield SystemCommand("Reload", "Reload everything from the store (r)", self.action_refresh)
        for spec in PANES:
            lacking = ""
            # Known once connected; the pane itself explains what is missing.
            if spec.capability and self.capabilities and not self.has_capability(spec.capability):
                lacking = f"; this backend has no {spec.capability.replace('_', ' ')}"
            yield SystemCommand(
                f"Go to: {spec.label}",
                f"Show the {spec.label} pane ({self.user_keymap.get(spec.binding_id, spec.key)})"
                f"{lacking}",
                lambda tab=spec.id: self.action_show_tab(tab, True),
            )
        if screen is not self.screen_stack[0]:
            return
        yield from self.session_list.palette_commands()
        pane = self.active_pane()
        if pane is not None:
            yield from pane.palette_commands()

    # --- theme -------------------------------------------------------------------------

    def _apply_keymap(self, config: dict[str, Any]) -> None:
        """The config's `keymap` (binding id -> keys); a wrong entry is named in one
        toast and ignored, never a traceback (memtui.tui.keymap)."""
        keymap = read_keymap(config)
        self.user_keymap = keymap.bindings
        if keymap.bindings:
            self.set_keymap(keymap.bindings)
        message = keymap.message()
        if message is not None:
            self.notify(message, title="memtui config", severity="warning", timeout=15)

    def _restore_theme(self, config: dict[str, Any]) -> None:
        saved = config.get("theme")
        if isinstance(saved, str) and saved in self.available_themes:
            self._saved_theme = saved
            self.theme = saved
        else:
            self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Any) -> None:
        name = getattr(theme, "name", None)
        if not name or name == self._saved_theme:
            return
        from memtui.config import update_config

        try:
            update_config(theme=name)
        except OSError as error:
            self.notify(f"Could not save the theme: {error}", severity="warning")
            return
        self._saved_theme = name

    def on_load(self) -> None:
        # Thread workers on daemon threads: quitting never waits for a read in flight
        # (a whole session list from a slow server); writes are waited for below.
        asyncio.get_running_loop().set_default_executor(DaemonExecutor())

    def action_quit(self) -> None:
        writes = pending_writes(self.workers)
        if not writes:
            self.exit()
            return
        self.notify("Finishing a save before quitting…", timeout=QUIT_WAITS_FOR_WRITES)
        # In a worker: the app keeps running (and shows the save's result) meanwhile.
        self.run_worker(self._exit_after(writes), group="quit", exclusive=True)

    async def _exit_after(self, writes: list[Worker[Any]]) -> None:
        async def finished(worker: Worker[Any]) -> None:
            with contextlib.suppress(Exception):  # failed or cancelled: it has ended
                await worker.wait()

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(QUIT_WAITS_FOR_WRITES):
                await asyncio.gather(*(finished(worker) for worker in writes))
        self.exit()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast (widgets' `notify` lands here): its text is never read as markup
        and its control characters show, because most toasts quote stored text (a
        session id, a key, an error naming a value)."""
        super().notify(
            visible_text(message),
            title=visible_line(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )


def is_text_field(widget: Widget) -> bool:
    """Where typed keys are text (digits, j/k, ?): an input, a select or an editable
    text area, or anything inside one."""
    from textual.widgets import Input, Select, TextArea

    for node in (widget, *widget.ancestors):
        if isinstance(node, Input | Select):
            return True
        if isinstance(node, TextArea) and not node.read_only:
            return True
    return False


def _focus_first(container: Widget, *, fallback: bool = True) -> bool:
    """Focus the pane's first widget that is not a text field (so digit keys keep
    switching tabs); a pane made only of text fields leaves focus on the tab bar
    (unless not `fallback`). True if something in the pane took focus."""
    from textual.widgets import Tabs

    for widget in container.query("*"):
        if not widget.focusable or is_text_field(widget):
            continue
        widget.focus()
        return True
    if fallback:
        tabs = container.app.query_one("#tabs").query(Tabs).first()
        tabs.focus()
    return False


def _short_problem(error: MemtuiError, remote: bool) -> str:
    """The status line's few words for what is wrong (the toast has it in full)."""
    if isinstance(error, AuthError):
        return "API key rejected"
    return "server unreachable" if remote else "store unavailable"


def _same_session(a: Session | None, b: Session | None) -> bool:
    return a is not None and b is not None and a.id == b.id


def _safe_describe(backend: Backend) -> str:
    try:
        return backend.describe()
    except Exception:  # describing must never break the status line
        return type(backend).__name__


def _describe_target(target: BackendTarget) -> str:
    from memtui.config import mask_secret

    if target.is_remote:
        key = f" (key {mask_secret(target.api_key)})" if target.api_key else ""
        return f"{target.server_url}{key}"
    return target.db_url or "default store"


def _cache_key(target: BackendTarget) -> str:
    return target.server_url or target.db_url or "default"
