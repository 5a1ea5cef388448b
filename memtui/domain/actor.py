"""Who is writing: the actor every write is attributed to.

A front end says who it acts for around the backend calls it makes; the history (issue 13)
reads `current_actor()` when it records a revision. Names: `cli` (the default), `tui`,
the API key's name for HTTP, `mcp:<client name>` for the MCP server.

    with acting_as("mcp:claude-code"):
        backend.add_memories([...])

It is a `contextvars.ContextVar`, so it follows asyncio tasks by itself; a thread worker
or thread pool sees it only when the caller's context is copied into it
(`contextvars.copy_context().run(fn)`, or `run_in_context` below).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

DEFAULT_ACTOR = "cli"

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "memtui_actor", default=DEFAULT_ACTOR
)

P = ParamSpec("P")
T = TypeVar("T")


def current_actor() -> str:
    """The actor of the write being made now (`cli` unless a front end said otherwise)."""
    return _current.get()


@contextmanager
def acting_as(name: str) -> Iterator[str]:
    """Attribute every write made inside the block (in this context) to `name`."""
    if not isinstance(name, str) or not name:
        raise ValueError("an actor needs a non-empty name")
    token = _current.set(name)
    try:
        yield name
    finally:
        _current.reset(token)


def run_in_context(function: Callable[P, T]) -> Callable[P, T]:
    """`function` bound to a copy of the caller's context (the actor included), for
    handing to a thread pool: `to_thread.run_sync(run_in_context(fn))`."""
    context = contextvars.copy_context()

    def bound(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.run(function, *args, **kwargs)

    return bound
