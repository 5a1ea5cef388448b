"""What the app offers its widgets, typed.

Textual types `widget.app` as `App[Any]`, so reaching `app.backend` from a pane used to
need `# type: ignore` or `getattr`. `AppServices` names what a pane may use (the
backend, the clock, the backend's capabilities, the selected session, and the app's
ways to report errors); `MemtuiApp` provides it, and `app_services(node)` returns it typed.
A pane reaches it as `self.services` (see `SessionPane`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from memtui.backend import Backend
    from memtui.domain.clock import Clock
    from memtui.domain.errors import MemtuiError
    from memtui.domain.history import HistoryTarget
    from memtui.domain.models import Session


class AppServices(Protocol):
    """The app as its panes see it (implemented by `memtui.tui.app.MemtuiApp`)."""

    backend: Backend | None  # None until the store is open
    clock: Clock
    capabilities: frozenset[str]  # what the backend offers (empty until connected)
    selected_session: Session | None
    cache_key: str | None  # where the session list is cached (None: not cached)

    def has_capability(self, capability: str) -> bool:
        """Whether the open backend offers `capability` (a `Capability` value)."""
        ...

    def refuse_without_store(self, action: str) -> bool:
        """True (after saying why) when the store is not open."""
        ...

    def report_backend_error(
        self, error: MemtuiError, *, action: str = "", quiet: bool = False
    ) -> None:
        """A toast and the status line's state; never a traceback."""
        ...

    def mark_backend_ok(self) -> None:
        """A call succeeded: leave an error state the status line may show."""
        ...

    def action_show_tab(self, tab: str, focus: bool = False) -> None:
        """Show the pane registered as `tab` (see `memtui.tui.panes.PANES`)."""
        ...

    def show_memory_in_timeline(self, memory_id: str) -> None:
        """The timeline tab with its cursor on `memory_id`."""
        ...

    def show_history(self, target: HistoryTarget) -> None:
        """The history screen of a memory, working-memory key or session (`h`)."""
        ...

    def record_delete(self, entity: str, ids: list[str], session_id: str | None) -> None:
        """A delete made in this TUI, for `z` to undo (a `memtui.domain.history.Entity`)."""
        ...


def app_services(node: DOMNode) -> AppServices:
    """The running app's services. Every memtui widget runs inside a `MemtuiApp`."""
    return cast("AppServices", node.app)
