"""The briefing (seed 002): recent activity, open threads, active sessions and what
expires soon, for the selected session's agent or for every agent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Static

from memtui.domain.briefing import recent_activity_total
from memtui.domain.errors import MemtuiError
from memtui.domain.expiry import Urgency, format_time_left, urgency
from memtui.domain.models import Briefing, Capability, Session
from memtui.tui.messages import StoreChanged
from memtui.tui.stored_text import block, join, line, preview_text
from memtui.tui.widgets.pane import SessionPane
from memtui.tui.widgets.working_memory import local_time
from memtui.tui.workers import when_alive

LOOKBACK = timedelta(hours=24)
RECENT_LIMIT = 25  # recent activity lines shown
REFRESH_DEBOUNCE = 1.0  # seconds: a burst of writes reloads the briefing once

_URGENCY_STYLE = {
    Urgency.NONE: "",
    Urgency.SOON: "$warning",
    Urgency.VERY_SOON: "b $error",
    Urgency.EXPIRED: "dim $error",
}


def _one_line(text: str, width: int = 96) -> str:
    flat = preview_text(text)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _session_line(session: Session, now: datetime) -> Content:
    style = _URGENCY_STYLE[urgency(session, now)]
    left = f"{format_time_left(session, now):>14}"
    return join("  ", (left, style), "  ", line(session.agent_id), "  ", line(session.id, "dim"))


def describe_sessions(sessions: list[Session], now: datetime, empty: str) -> Content:
    if not sessions:
        return join("  ", (empty, "dim"))
    return Content("\n").join(_session_line(session, now) for session in sessions)


def describe_threads(briefing: Briefing) -> Content:
    """Open tasks, as plain Content: a task is stored text (`[WIP] fix login`, or
    `[@click=app.quit]` which as markup would quit the app on a click)."""
    if not briefing.open_threads:
        return join("  ", ("no open tasks in the latest snapshots", "dim"))
    return Content("\n").join(
        join(
            "  ☐ ",
            line(thread.task),
            "  ",
            join(
                line(thread.agent_id),
                " · ",
                line(thread.session_id),
                f" · {local_time(thread.created_at, '%m-%d %H:%M')}",
            ).stylize("dim"),
        )
        for thread in briefing.open_threads
    )


def describe_recent(briefing: Briefing, total: int | None = None) -> Content:
    """The newest memories; `total` is how many the lookback window holds (the
    briefing itself carries only the newest 50)."""
    memories = briefing.recent_activity[:RECENT_LIMIT]
    if not memories:
        return join("  ", ("nothing in the lookback window", "dim"))
    lines = []
    for memory in memories:
        kind = "error" if memory.is_error else memory.memory_type
        style = "$error" if memory.is_error else "$secondary"
        lines.append(
            join(
                f"  {local_time(memory.time, '%m-%d %H:%M')}  ",
                line(f"{kind:<9}", style),
                "  ",
                line(memory.agent_id, "dim"),
                "  ",
                line(_one_line(memory.content)),
            )
        )
    more = max(total if total is not None else 0, len(briefing.recent_activity)) - len(memories)
    if more > 0:
        lines.append(join("  ", (f"… and {more} more (see the timeline)", "dim")))
    return Content("\n").join(lines)


class BriefingPane(SessionPane):
    """What an agent (or every agent) did lately and what needs attention now."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    HELP = """\
# Briefing

A start-of-session briefing, as MemoryLayer gives its agents:

- **Expiring soon**: active sessions with less than an hour left, with a live
  countdown. Extend them from the session list (`e`).
- **Active sessions** and their time left.
- **Open threads**: the open tasks of each session's latest snapshot.
- **Recent activity**: the newest memories of the last 24 hours.

| key | action |
|---|---|
| a | switch between the selected session's agent and all agents |
| r | reload |

Times are in your local time; the briefing follows new writes by itself.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "toggle_scope", "Agent/all", id="briefing-toggle-scope"),
        Binding("r", "reload", "Reload", id="briefing-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(id="briefing")
        self.all_agents = False
        self._agent_id: str | None = None
        self._briefing: Briefing | None = None
        self._generation = 0
        self._supported: bool | None = None
        self._refresh_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="brief-message", id="brief-switcher"):
            yield Static("Loading the briefing…", id="brief-message")
            with Vertical(id="brief-main"):
                yield Static("", id="brief-scope")
                with VerticalScroll(id="brief-scroll"):
                    for section, title in (
                        ("expiring", "Expiring soon"),
                        ("active", "Active sessions"),
                        ("threads", "Open threads"),
                        ("recent", "Recent activity"),
                    ):
                        yield Static(
                            title, classes="brief-section-title", id=f"brief-{section}-title"
                        )
                        yield Static("", classes="brief-section", id=f"brief-{section}")

    def on_mount(self) -> None:
        # Countdowns: re-rendered from the injected clock, only while this pane shows.
        self.set_interval(1.0, self._tick, name="briefing countdowns")

    @property
    def briefing(self) -> Briefing | None:
        return self._briefing

    @property
    def scope_agent_id(self) -> str | None:
        """The agent the briefing is about (None: every agent)."""
        return None if self.all_agents else self._agent_id

    def watch_session(self, session: Session | None) -> None:
        agent_id = session.agent_id if session else None
        if agent_id == self._agent_id and self._briefing is not None:
            return
        self._agent_id = agent_id
        self.action_reload()

    def action_toggle_scope(self) -> None:
        self.all_agents = not self.all_agents
        self.action_reload()

    def action_reload(self) -> None:
        if self.services.backend is None:
            return  # still connecting; the first selection loads it
        self._generation += 1
        self._update_scope_line(loading=True)
        self._load_worker(self.scope_agent_id, self._generation)

    @work(thread=True, exclusive=True, group="briefing-load", exit_on_error=False)
    def _load_worker(self, agent_id: str | None, generation: int) -> None:
        try:
            if Capability.BRIEFING not in self.backend.capabilities():
                self.deliver(self._show_unsupported)
                return
            briefing = self.backend.briefing(agent_id=agent_id, lookback=LOOKBACK)
            total = recent_activity_total(briefing, self.backend.count_memories)
        except MemtuiError as error:
            self.deliver(self._load_failed, generation, error)
            return
        except Exception as error:
            wrapped = MemtuiError(f"unexpected {type(error).__name__}: {error}")
            self.deliver(self._load_failed, generation, wrapped)
            return
        self.deliver(self._apply, generation, briefing, total)

    def _show_unsupported(self) -> None:
        self._supported = False
        self.query_one("#brief-message", Static).update(
            block(
                "This backend has no briefing.\n\n"
                f"{self.backend.describe()} speaks plain Memtrace, which has no briefing "
                "endpoint. The session list and the timeline show the same facts."
            )
        )
        self.query_one("#brief-switcher", ContentSwitcher).current = "brief-message"

    def _load_failed(self, generation: int, error: MemtuiError) -> None:
        if generation != self._generation:
            return
        if self._briefing is None:
            self.query_one("#brief-message", Static).update(
                block(f"Could not load the briefing: {error}")
            )
        self.report_error(error, action="Briefing")

    def _apply(self, generation: int, briefing: Briefing, recent_total: int) -> None:
        if generation != self._generation:
            return  # the scope changed while this one loaded
        self._supported = True
        self._briefing = briefing
        self.query_one("#brief-switcher", ContentSwitcher).current = "brief-main"
        self._update_scope_line()
        now = self.clock()
        self._render_sessions(now)
        self.query_one("#brief-threads-title", Static).update(
            f"Open threads ({len(briefing.open_threads)})"
        )
        self.query_one("#brief-threads", Static).update(describe_threads(briefing))
        self.query_one("#brief-recent-title", Static).update(
            f"Recent activity ({recent_total} in the last "
            f"{int(briefing.lookback.total_seconds() // 3600)} h)"
        )
        self.query_one("#brief-recent", Static).update(describe_recent(briefing, recent_total))

    def _render_sessions(self, now: datetime) -> None:
        briefing = self._briefing
        if briefing is None:
            return
        self.query_one("#brief-expiring-title", Static).update(
            f"Expiring soon ({len(briefing.expiring_soon)})"
        )
        self.query_one("#brief-expiring", Static).update(
            describe_sessions(briefing.expiring_soon, now, "nothing expires within the hour")
        )
        self.query_one("#brief-active-title", Static).update(
            f"Active sessions ({len(briefing.active_sessions)})"
        )
        self.query_one("#brief-active", Static).update(
            describe_sessions(briefing.active_sessions, now, "no active sessions")
        )

    def _update_scope_line(self, *, loading: bool = False) -> None:
        if self.scope_agent_id is None:
            scope = line("all agents", "b")
            hint = " · press a for the selected session's agent" if self._agent_id else ""
        else:
            scope = join("agent ", line(self.scope_agent_id, "b"))
            hint = " · press a for all agents"
        when = ""
        if self._briefing is not None and not loading:
            when = f" · generated {local_time(self._briefing.generated_at, '%H:%M:%S')}"
        state = " · loading…" if loading else ""
        self.query_one("#brief-scope", Static).update(
            join("Briefing for ", scope, f", last 24 h{when}{state}{hint}")
        )

    @when_alive
    def _tick(self) -> None:
        if self._briefing is None or not self.is_on_screen:
            return
        if self.app.screen is not self.screen:
            return  # a modal covers it
        self._render_sessions(self.clock())

    def on_store_changed(self, message: StoreChanged) -> None:
        if self._supported is False:
            return
        agent_id = self.scope_agent_id
        if not (
            message.full_refresh
            or agent_id is None
            or any(change.agent_id in (None, agent_id) for change in message.changes)
        ):
            return
        # Debounced: an agent writing a burst of memories reloads the briefing once.
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_timer = self.set_timer(REFRESH_DEBOUNCE, self._debounced_reload)

    @when_alive
    def _debounced_reload(self) -> None:
        self.action_reload()

    def palette_commands(self) -> Iterable[SystemCommand]:
        return [
            SystemCommand(
                "Briefing: switch agent / all agents",
                "Brief on the selected session's agent or on every agent (a)",
                self.action_toggle_scope,
            ),
            SystemCommand("Briefing: reload", "Reload the briefing (r)", self.action_reload),
        ]
