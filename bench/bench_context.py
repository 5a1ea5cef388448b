"""Context build time of a 10k-memory session beside tiktoken alone.

    python bench/bench_context.py                  # 10k memories, 15 runs per figure
    python bench/bench_context.py --memories 2000 --runs 5
    python bench/bench_context.py --backend postgres   # a throwaway PostgreSQL database

Builds a store (SQLite in a temporary directory, or a throwaway PostgreSQL database at
127.0.0.1:5432, analysed and vacuumed as autovacuum would leave it) with one session of
N memories of realistic
lengths (a sentence to a few paragraphs; every type, errors, ~30% without importance),
then for max_tokens 2000 and 8000 reports the median of several runs of:

- tiktoken:      encode_ordinary of the final markdown, nothing else (the yardstick)
- engine:        render_context on the 10k Memory objects in timeline order (it sorts)
- engine/prio:   render_context on memories already in priority order (what the store
                 hands it: ORDER BY importance, time, id), priority_ordered=True
- end-to-end:    SqlStore.build_context (validation, SQL fetch, engine)
- all lines:     encoding every memory's line once, what a budgeter that counts each
                 memory up front would pay at least

Each run times the yardstick and the measured step back to back, so the ratio (median of
the per-run ratios) holds up when other processes load the machine; figures are wall
time, with the CPU-time ratio beside it. Peak RSS is the process's ru_maxrss after each
step (the peak so far, so it only grows).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from memtui.domain.clock import ManualClock  # noqa: E402
from memtui.domain.context import bullet_text, render_context, sort_by_priority  # noqa: E402
from memtui.domain.models import ContextRequest, Memory, MemoryQuery, NewMemory  # noqa: E402
from memtui.domain.tokens import get_encoding  # noqa: E402
from memtui.store import SqlStore  # noqa: E402

SESSION_ID = "sess_bench_context"
NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
WORDS = [
    "crawled",
    "fetched",
    "parsed",
    "extracted",
    "pricing",
    "product",
    "page",
    "category",
    "engagement",
    "database",
    "retry",
    "timeout",
    "user",
    "asked",
    "summary",
    "decided",
    "focus",
    "skip",
    "quality",
    "report",
    "api",
    "endpoint",
    "returned",
    "results",
    "cache",
    "invalidated",
    "migration",
    "schema",
    "column",
    "index",
    "query",
    "latency",
    "customer",
    "invoice",
    "refund",
    "policy",
    "deployment",
    "rollback",
    "feature",
    "flag",
    "experiment",
    "cohort",
    "the",
    "a",
    "of",
    "to",
    "and",
    "for",
    "with",
    "from",
    "after",
    "before",
    "because",
    "while",
]
TYPES = ("episodic",) * 5 + ("decision",) * 2 + ("entity",) * 2 + ("session", "tool_call")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 22))]
    text = " ".join(words).capitalize()
    if rng.random() < 0.3:
        text += f" (https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)})"
    return text + rng.choice([".", ".", ".", "", "!", ":"])


def content(rng: random.Random) -> str:
    """Mostly one or two sentences; sometimes a paragraph or a multi-line note."""
    roll = rng.random()
    sentences = 1 if roll < 0.55 else 2 if roll < 0.8 else rng.randint(3, 8)
    separator = "\n" if rng.random() < 0.1 else " "
    return separator.join(sentence(rng) for _ in range(sentences))


def build_store(url: str, count: int, seed: int) -> SqlStore:
    rng = random.Random(seed)
    store = SqlStore(url, clock=ManualClock(NOW))
    store.create_session("agent_bench", session_id=SESSION_ID, ttl=None)
    batch: list[NewMemory] = []
    for index in range(count):
        memory_type = rng.choice(TYPES)
        batch.append(
            NewMemory(
                agent_id="agent_bench",
                session_id=SESSION_ID,
                time=NOW - timedelta(seconds=7 * (count - index)),
                content=content(rng),
                memory_type=memory_type,
                event_type="error" if rng.random() < 0.05 else "general",
                importance=None if rng.random() < 0.3 else round(rng.random(), 1),
            )
        )
        if len(batch) == 1000:
            store.add_memories(batch)
            batch = []
    if batch:
        store.add_memories(batch)
    return store


def timeline(store: SqlStore) -> list[Memory]:
    memories: list[Memory] = []
    after = None
    while True:
        page = store.list_memories(MemoryQuery(session_id=SESSION_ID, limit=1000, after=after))
        memories.extend(page.memories)
        if not page.has_more:
            return memories
        after = page.next_cursor


@dataclass(frozen=True)
class Figure:
    wall_ms: float  # median wall time of the step
    ratio: float  # median of (step / yardstick) over back-to-back runs, wall time
    cpu_ratio: float  # the same with thread CPU time


def measure(action: Callable[[], object], yardstick: Callable[[], object], runs: int) -> Figure:
    action()  # warm caches (encodings, heading counts) the way a running app has them
    yardstick()
    walls, ratios, cpu_ratios = [], [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.thread_time()
        yardstick()
        yard_wall, yard_cpu = time.perf_counter() - wall, time.thread_time() - cpu
        wall, cpu = time.perf_counter(), time.thread_time()
        action()
        step_wall, step_cpu = time.perf_counter() - wall, time.thread_time() - cpu
        walls.append(step_wall)
        ratios.append(step_wall / yard_wall)
        cpu_ratios.append(step_cpu / max(yard_cpu, 1e-9))
    return Figure(
        statistics.median(walls) * 1000, statistics.median(ratios), statistics.median(cpu_ratios)
    )


@contextmanager
def store_url(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="memtui-bench-context-") as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    from tests.helpers.postgres import postgres_unreachable_reason, throwaway_database

    reason = postgres_unreachable_reason()
    if reason:
        raise SystemExit(reason)
    with throwaway_database("memtui_bench_context") as url:
        yield url


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--encoding", default="cl100k_base")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    with store_url(args.backend) as url:
        start = time.perf_counter()
        store = build_store(url, args.memories, args.seed)
        if store.dialect_name == "postgresql":
            with store.engine.connect() as conn:  # what autovacuum does to a settled table
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE memory"
                )
        print(
            f"store ({args.backend}): {args.memories} memories in one session, built in "
            f"{time.perf_counter() - start:.1f} s; peak RSS {peak_rss_mb():.0f} MB"
        )
        memories = timeline(store)
        prioritised = sort_by_priority(memories)
        encoding = get_encoding(args.encoding)
        chars = sum(len(m.content) for m in memories)
        print(
            f"session: {len(memories)} memories, {chars / len(memories):.0f} chars on "
            f"average; encoding {args.encoding}; median of {args.runs} runs"
        )
        lines = [f"- {bullet_text(m.content)}\n" for m in memories]

        for max_tokens in (2000, 8000):
            request = ContextRequest(max_tokens=max_tokens, encoding=args.encoding)
            result = render_context(SESSION_ID, memories, request)
            assert result.token_count == len(encoding.encode_ordinary(result.context))
            assert result == store.build_context(SESSION_ID, request)
            context = result.context

            def yardstick(context: str = context) -> object:
                return encoding.encode_ordinary(context)

            steps: list[tuple[str, Callable[[], object]]] = [
                ("tiktoken alone", yardstick),
                (
                    "engine/prio",
                    lambda request=request: render_context(
                        SESSION_ID, prioritised, request, priority_ordered=True
                    ),
                ),
                ("engine", lambda request=request: render_context(SESSION_ID, memories, request)),
                ("end-to-end", lambda request=request: store.build_context(SESSION_ID, request)),
                ("all lines", lambda: [encoding.encode_ordinary(line) for line in lines]),
            ]
            print(
                f"\nmax_tokens {max_tokens}: {result.token_count} tokens, "
                f"{len(context)} chars, {result.memory_count} memories kept, "
                f"{result.omitted_count} omitted"
            )
            print(f"  {'step':<15} {'median':>9}  {'ratio':>6}  {'cpu ratio':>9}")
            for label, action in steps:
                runs = args.runs if label != "all lines" else max(3, args.runs // 3)
                figure = measure(action, yardstick, runs)
                print(
                    f"  {label:<15} {figure.wall_ms:6.2f} ms  {figure.ratio:5.2f}x  "
                    f"{figure.cpu_ratio:8.2f}x   peak RSS {peak_rss_mb():.0f} MB"
                )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
