"""The status line: backend (secrets masked), session counts, connection state.

Narrow terminals cut the backend's name first (from the left: the file or host at
its end stays), never the counts or the connection state (issue 9 item 7).
"""

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
SEPARATOR = " │ "
MIN_BACKEND = 12  # cells of the backend's name kept before the state is cut


def counts_content(counts: SessionCounts) -> Content:
    """`3 active (2 expiring) · 1 expired · 0 closed`: expiring sessions are active
    ones, so they are shown as a part of the active count, not beside it."""
    expiring = f" [$warning]({counts.expiring} expiring)[/]" if counts.expiring else ""
    return Content.from_markup(
        f"[$success]{counts.active} active[/]{expiring} · "
        f"[$error]{counts.expired} expired[/] · "
        f"[dim]{counts.closed} closed[/]"
    )


def cut_left(content: Content, width: int) -> Content:
    """The last `width` cells of `content`, led by an ellipsis when cut."""
    if content.cell_length <= width:
        return content
    if width <= 1:
        return Content("…"[:width])
    return Content("…") + content[len(content.plain) - (width - 1) :]


class StatusBar(Widget):
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

    def state_content(self) -> Content:
        if self.state == "error":
            return Content.from_markup(
                "[$error]✖ $detail[/]", detail=visible_line(self.detail) or "unavailable"
            )
        return Content.from_markup(STATES.get(self.state, ""))

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        backend = Content.from_markup("$backend", backend=visible_line(self.backend_text) or "…")
        right = [counts_content(self.counts)] if self.counts is not None else []
        right.append(self.state_content())
        tail = Content(SEPARATOR).join(right)
        prefix = Content.from_markup("[b]⛁[/b] ")
        room = width - prefix.cell_length - len(SEPARATOR) - tail.cell_length
        if room < MIN_BACKEND and width > 0:
            # Too narrow even so: keep a little of the backend and cut the state's end.
            room = min(backend.cell_length, MIN_BACKEND)
            tail = tail.truncate(
                max(width - prefix.cell_length - len(SEPARATOR) - room, 0), ellipsis=True
            )
        return prefix + cut_left(backend, max(room, 0)) + Content(SEPARATOR) + tail
