"""Run backend calls off the UI thread and hand results back to it.

Every store or server call in the TUI goes through `run_backend_call`: a thread worker
that catches `MemtuiError` (and anything unexpected) and reports it as a toast instead
of a traceback, then calls `on_done` with the result on the UI thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.worker import Worker, get_current_worker

from memtui.domain.errors import BackendUnavailableError, MemtuiError

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from memtui.backend import Backend

T = TypeVar("T")


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
) -> Worker[None]:
    """Run `work(backend)` in a thread worker owned by `node`.

    `on_done(result)` runs on the UI thread unless the worker was cancelled (an
    exclusive newer call replaced it). Errors go to `on_error` if given, else to the
    app's `report_backend_error` (a toast plus the status line).
    """
    app = node.app

    def deliver(callback: Callable[..., Any], *args: Any) -> None:
        # RuntimeError: the app is shutting down; nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            app.call_from_thread(callback, *args)

    def run() -> None:
        worker = get_current_worker()
        backend = app.backend  # type: ignore[attr-defined]
        try:
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
        mark_ok = getattr(app, "mark_backend_ok", None)
        if mark_ok is not None:
            deliver(mark_ok)
        if on_done is not None:
            deliver(on_done, result)

    return node.run_worker(
        run,
        name=action or "backend call",
        group=group,
        exclusive=exclusive,
        thread=True,
        exit_on_error=False,
    )


def _report(
    app: Any,
    error: MemtuiError,
    action: str,
    on_error: Callable[[MemtuiError], Any] | None,
) -> None:
    if on_error is not None:
        on_error(error)
        return
    report = getattr(app, "report_backend_error", None)
    if report is not None:
        report(error, action=action)
    else:
        prefix = f"{action}: " if action else ""
        app.notify(f"{prefix}{error}", severity="error", timeout=6)
