"""Run backend calls off the UI thread and hand results back to it.

Every store or server call in the TUI goes through `run_backend_call`: a thread worker
that catches `MemtuiError` (and anything unexpected) and reports it as a toast instead
of a traceback, then calls `on_done` with the result on the UI thread.

Results, timers and messages can arrive when the widget they are for is not (or no
longer) there: before its pane is mounted, while a screen is being pruned, or while
the app shuts down (a worker finishing after the test or the user quit). `is_alive`,
`deliver_from_thread` and `@when_alive` drop such late calls instead of letting a
`NoMatches` crash the app.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from textual.css.query import NoMatches
from textual.worker import Worker, get_current_worker

from memtui.domain.errors import BackendUnavailableError, MemtuiError
from memtui.tui.executor import mark_write
from memtui.tui.services import AppServices, app_services

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from memtui.backend import Backend

T = TypeVar("T")
P = ParamSpec("P")


def is_alive(node: DOMNode) -> bool:
    """True while `node` is mounted in a running app: not composing, not being
    removed, and the app is not shutting down (`App._shutdown` clears `is_running`
    before it prunes the screens)."""
    try:
        app = node.app
    except Exception:  # no active app (a thread after the app has gone)
        return False
    if not app.is_running:
        return False
    if node is app:
        return True
    # `_pruning` is set on every node of a subtree being removed, children first.
    return node.is_mounted and node.is_attached and not node._pruning  # noqa: SLF001


def when_alive(method: Callable[P, T]) -> Callable[P, T | None]:
    """For timer callbacks, message handlers and worker results on a widget or the
    app: skipped unless `is_alive(self)`, and a `NoMatches` raised because the node
    started going away while it ran is dropped (one raised while alive is a bug and
    still raises)."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T | None:
        node = args[0]
        if not is_alive(node):  # type: ignore[arg-type]
            return None
        try:
            return method(*args, **kwargs)
        except NoMatches:
            if is_alive(node):  # type: ignore[arg-type]
                raise
            return None

    return guarded


def deliver_from_thread(
    node: DOMNode, callback: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:
    """From a thread worker: run `callback` on the UI thread if `node` is still alive.

    Blocks until it has run (like `call_from_thread`), so a worker is complete only
    once its result is shown; `app.workers.wait_for_complete()` relies on that."""
    try:
        app = node.app
    except Exception:
        return
    if not app.is_running:
        return  # also avoids blocking on a loop that will never run the callback

    def run() -> None:
        if not is_alive(node):
            return
        try:
            callback(*args, **kwargs)
        except NoMatches:
            if is_alive(node):
                raise

    # RuntimeError: the app or its loop closed meanwhile; nobody is left to tell.
    with contextlib.suppress(RuntimeError):
        app.call_from_thread(run)


def describe_unexpected(error: BaseException) -> str:
    """A one-line message for an error no backend should raise (never a traceback)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return f"unexpected {name}: {text}" if text else f"unexpected {name}"


def run_backend_call(
    node: DOMNode,
    work: Callable[[Backend], T],
    *,
    on_done: Callable[[T], Any] | None = None,
    on_error: Callable[[MemtuiError], Any] | None = None,
    action: str = "",
    group: str = "backend",
    exclusive: bool = False,
    writes: bool = False,
) -> Worker[None] | None:
    """Run `work(backend)` in a thread worker owned by `node` (None: the store is not
    open, which the app has said; nothing runs).

    `on_done(result)` runs on the UI thread unless the worker was cancelled (an
    exclusive newer call replaced it). Errors go to `on_error` if given, else to the
    app's `report_backend_error` (a toast plus the status line). With `writes`, quitting
    waits for it to finish (a read still in flight is dropped: memtui.tui.executor).
    """
    app = app_services(node)
    if app.backend is None:
        app.refuse_without_store(action or "That")  # says that the store is not open, and why
        return None

    def deliver(callback: Callable[..., Any], *args: Any) -> None:
        deliver_from_thread(node, callback, *args)

    def run() -> None:
        worker = get_current_worker()
        backend = app.backend
        try:
            if backend is None:  # pragma: no cover - checked before the worker started
                raise BackendUnavailableError("The store is not open.")
            result = work(backend)
        except MemtuiError as error:
            if not worker.is_cancelled:
                deliver(_report, app, error, action, on_error)
            return
        except Exception as error:  # a bug or an unwrapped driver error: still no traceback
            wrapped = BackendUnavailableError(describe_unexpected(error))
            if not worker.is_cancelled:
                deliver(_report, app, wrapped, action, on_error)
            return
        if worker.is_cancelled:
            return
        deliver(app.mark_backend_ok)
        if on_done is not None:
            deliver(on_done, result)

    worker = node.run_worker(
        run,
        name=action or "backend call",
        group=group,
        exclusive=exclusive,
        thread=True,
        exit_on_error=False,
    )
    if writes:
        mark_write(worker)
    return worker


def _report(
    app: AppServices,
    error: MemtuiError,
    action: str,
    on_error: Callable[[MemtuiError], Any] | None,
) -> None:
    if on_error is not None:
        on_error(error)
        return
    app.report_backend_error(error, action=action)
