"""The base of every right-hand pane that shows something about the selected session."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import SystemCommand
from textual.reactive import reactive
from textual.widget import Widget

from memtui.domain.errors import BackendUnavailableError, MemtuiError
from memtui.domain.models import Session
from memtui.tui.services import AppServices, app_services
from memtui.tui.workers import deliver_from_thread, when_alive

if TYPE_CHECKING:
    from textual.worker import Worker

    from memtui.backend import Backend
    from memtui.domain.clock import Clock
    from memtui.tui.messages import StoreChanged

T = TypeVar("T")


class SessionPane(Widget):
    """A pane bound to the selected session.

    The app sets `session` when the selection changes and posts `StoreChanged` when the
    backend changes. Subclasses load data in thread workers (never on the UI thread) in
    `watch_session` and `on_store_changed`, and report failures with `report_error`.
    """

    HELP: ClassVar[str] = ""
    """Markdown shown by F1 when this pane has focus."""

    session: reactive[Session | None] = reactive(None, always_update=True)

    @property
    def services(self) -> AppServices:
        """The app's backend, clock, capabilities and error reporting, typed."""
        return app_services(self)

    @property
    def backend(self) -> Backend:
        """The open backend (from a worker; `run_backend_call` hands it over too)."""
        backend = self.services.backend
        if backend is None:
            raise BackendUnavailableError("The store is not open.")
        return backend

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def has_capability(self, capability: str) -> bool:
        return self.services.has_capability(capability)

    def _on_mount(self) -> None:
        # A pane mounted late (the app mounts hidden tabs after the first paint) picks up
        # the session already selected. Runs besides any subclass `on_mount`.
        if self.services.selected_session is not None and self.session is None:
            self.call_after_refresh(self._adopt_selected_session)

    @when_alive
    def _adopt_selected_session(self) -> None:
        selected = self.services.selected_session
        if selected is not None and self.session is None:
            self.session = selected

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Commands this pane offers in the command palette (ctrl+p)."""
        return ()

    def on_store_changed(self, message: StoreChanged) -> None:
        """Reload if the change concerns what this pane shows."""

    def deliver(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """From a thread worker: run `callback` on the UI thread, unless this pane has
        gone meanwhile (removed, or the app shut down before the worker finished)."""
        deliver_from_thread(self, callback, *args, **kwargs)

    def store_ready(self, action: str) -> bool:
        """False (after saying the store is not open, and why) when it is not."""
        return not self.services.refuse_without_store(action)

    def report_error(self, error: MemtuiError | Exception, *, action: str = "") -> None:
        """Show a failure as a toast: a clear message, never a traceback."""
        prefix = f"{action}: " if action else ""
        self.app.notify(f"{prefix}{error}", severity="error", timeout=6)

    def call_backend(
        self,
        work: Callable[[Backend], T],
        *,
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[MemtuiError], Any] | None = None,
        action: str = "",
        group: str | None = None,
        exclusive: bool = True,
        writes: bool = False,
    ) -> Worker[None] | None:
        """Run `work(backend)` in a thread worker; `on_done(result)` runs on the UI
        thread. Errors become a toast (or go to `on_error`), never a traceback. With
        `exclusive` (the default), a newer call in the same group replaces an older one,
        whose result is then dropped. With `writes`, quitting waits for it."""
        from memtui.tui.workers import run_backend_call

        return run_backend_call(
            self,
            work,
            on_done=on_done,
            on_error=on_error,
            action=action,
            group=group or f"{self.id or type(self).__name__}-load",
            exclusive=exclusive,
            writes=writes,
        )
