"""The thread pool behind every thread worker, made so quitting never waits on reads.

Textual runs `thread=True` workers in the event loop's default executor, a
`ThreadPoolExecutor`. When the app exits, `asyncio.run` shuts that executor down and
waits for every thread, and the interpreter joins them again at exit, so a read still
in flight (the whole session list from a slow server, a page of a huge timeline) held
the terminal for as long as it took (issue 14: 8.3 s to quit with 100k sessions).

`DaemonExecutor` runs work on daemon threads and its `shutdown` does not wait: a read
nobody will see is dropped with the process. Writes are not: `run_backend_call(...,
writes=True)` (or `mark_current_worker_as_write()` inside a worker) registers the
worker, and the app's quit waits for those (`pending_writes`) before it exits.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from textual.worker import Worker

P = ParamSpec("P")
T = TypeVar("T")

_STOP = object()


class DaemonExecutor(ThreadPoolExecutor):
    """Up to `max_workers` daemon threads, started as work arrives; never joined.

    A `ThreadPoolExecutor` only in name (asyncio accepts no other default executor):
    it shares none of its machinery, whose threads the interpreter joins at exit."""

    def __init__(self, max_workers: int = 8, name: str = "memtui-worker") -> None:
        self._max_workers = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # Released by a thread each time it finishes an item, taken by `submit`: an idle
        # thread will pick the new item up, so no new thread is needed (as the stdlib's).
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:  # handed to whoever awaits the future
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs, item  # drop references while idle
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stops taking work; never waits (the threads are daemons)."""
        with self._lock:
            self._shutdown = True
            for _ in self._threads:
                self._queue.put(_STOP)

    @property
    def threads(self) -> int:
        return len(self._threads)


_writes: weakref.WeakSet[Worker[Any]] = weakref.WeakSet()


def mark_current_worker_as_write() -> None:
    """Inside a thread worker: quitting waits for this one (it changes something)."""
    from textual.worker import get_current_worker

    _writes.add(get_current_worker())


def mark_write(worker: Worker[Any]) -> None:
    _writes.add(worker)


def pending_writes(workers: Iterable[Worker[Any]]) -> list[Worker[Any]]:
    """Of `workers` (an app's), the writes not finished yet (quitting waits for these)."""
    return [worker for worker in workers if worker in _writes and not worker.is_finished]
