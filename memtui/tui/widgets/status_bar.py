"""The status line: backend (secrets masked), session counts, connection state."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from memtui.domain.safe_text import visible_line
from memtui.tui.widgets.session_list import SessionCounts

STATES = {
    "connecting": "[$warning]◌ connecting…[/]",
    "cached": "[$warning]◌ cached list · opening the store…[/]",
    "opening": "[$warning]◌ opening the store…[/]",
    "live": "[$success]● live[/]",
    "polling": "[$success]● live (polling)[/]",
}


class StatusBar(Widget):
    """The store and an error's detail are inserted as `$variables`: plain text, with
    control characters made visible (an error may quote a stored value)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    backend_text: reactive[str] = reactive("")
    counts: reactive[SessionCounts | None] = reactive(None)
    state: reactive[str] = reactive(
        "connecting"
    )  # connecting, cached, opening, live, polling, error
    detail: reactive[str] = reactive("")

    def __init__(self) -> None:
        super().__init__(id="status-bar")

    def render(self) -> Content:
        parts = [
            Content.from_markup("[b]⛁[/b] $backend", backend=visible_line(self.backend_text) or "…")
        ]
        counts = self.counts
        if counts is not None:
            parts.append(
                Content.from_markup(
                    f"[$success]{counts.active} active[/] · "
                    f"[$warning]{counts.expiring} expiring[/] · "
                    f"[$error]{counts.expired} expired[/] · "
                    f"[dim]{counts.closed} closed[/]"
                )
            )
        if self.state == "error":
            parts.append(
                Content.from_markup(
                    "[$error]✖ $detail[/]", detail=visible_line(self.detail) or "unavailable"
                )
            )
        else:
            parts.append(Content.from_markup(STATES.get(self.state, "")))
        return Content(" │ ").join(parts)
