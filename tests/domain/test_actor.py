"""memtui.domain.actor: who a write is attributed to, across tasks and threads."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from memtui.domain.actor import DEFAULT_ACTOR, acting_as, current_actor, run_in_context


def test_default_nesting_and_reset() -> None:
    assert current_actor() == DEFAULT_ACTOR == "cli"
    with acting_as("tui"):
        assert current_actor() == "tui"
        with acting_as("mcp:claude-code"):
            assert current_actor() == "mcp:claude-code"
        assert current_actor() == "tui"
    assert current_actor() == "cli"


def test_reset_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), acting_as("mcp:x"):
        raise RuntimeError("boom")
    assert current_actor() == "cli"


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(ValueError):
        acting_as("").__enter__()


def test_a_thread_pool_sees_the_actor_only_through_run_in_context() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool, acting_as("mcp:agent"):
        plain = pool.submit(current_actor).result()
        copied = pool.submit(run_in_context(current_actor)).result()
    assert plain == "cli"  # a pool thread starts from an empty context
    assert copied == "mcp:agent"


async def test_concurrent_tasks_keep_their_own_actor() -> None:
    seen: dict[str, str] = {}

    async def work(name: str) -> None:
        with acting_as(name):
            await asyncio.sleep(0.01)
            seen[name] = await asyncio.to_thread(current_actor)

    await asyncio.gather(work("mcp:a"), work("mcp:b"))
    assert seen == {"mcp:a": "mcp:a", "mcp:b": "mcp:b"}
