"""Shared stores at scale: SQLite and PostgreSQL side by side.

    python bench/bench_scale.py                 # everything, full size (~10-20 min)
    python bench/bench_scale.py --quick         # small sizes, a smoke run (~1-2 min)
    python bench/bench_scale.py --only insert,feed --backends postgres

Sections (each bounded by a fixed amount of work or a fixed duration):
- insert:   memories/s with 1, 4 and 8 writer processes (same total, batches of 50)
- timeline: newest-page and keyset next-page latency of a 20k-memory session, idle and
            while 4 writer processes insert (p50/p99)
- feed:     delay from a writer's commit to a follower seeing the change (p50/p99),
            follower polling every 10 ms (add the poll interval of the SSE/TUI on top)
- million:  a 1M-memory store (thousands of sessions): newest page and a deep page of
            a session timeline, and the context build of a 10k-memory session at
            max_tokens 2000 / 8000 beside tiktoken alone encoding the final markdown
- stress:   the stress test at full size (8 writers x 2000 memories + working-memory
            updates + a follower); prints the problems found (none expected)

PostgreSQL runs in a throwaway database on 127.0.0.1:5432 (dropped afterwards);
SQLite in a temporary directory. Figures go to stdout and, with --json, to a file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.helpers / tests.scale (shared workloads)

from memtui.domain.models import (  # noqa: E402
    ContextRequest,
    MemoryCursor,
    MemoryQuery,
    NewMemory,
)

SPAWN = multiprocessing.get_context("spawn")
TYPES = ("episodic", "decision", "entity", "session", "episodic", "episodic")
WORDS = tuple(
    [
        "refactored",
        "parser",
        "fixed",
        "flaky",
        "test",
        "deployed",
        "staging",
        "reviewed",
        "migration",
        "plan",
        "benchmark",
        "index",
        "cache",
        "invalidation",
        "user",
        "asked",
        "about",
        "retry",
        "budget",
        "error",
        "timeout",
        "decided",
        "to",
        "keep",
        "sqlite",
        "wal",
        "mode",
        "postgres",
        "advisory",
        "lock",
        "cursor",
        "feed",
    ]
)


def open_store(url: str) -> Any:
    from memtui.store import SqlStore

    return SqlStore(url)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def make_memory(
    rng: random.Random, agent: str, session: str, at: datetime, n: int, tag: str = "bench"
) -> NewMemory:
    return NewMemory(
        agent_id=agent,
        session_id=session,
        content=f"{sentence(rng, rng.randint(6, 30))} #{n}",
        memory_type=TYPES[n % len(TYPES)],
        event_type="error" if n % 37 == 0 else "general",
        tags=[tag, f"t{n % 20}"],
        importance=round(rng.random(), 2),
        metadata={"n": n},
        time=at,
    )


@contextmanager
def backend_url(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = workdir / f"bench-{random.randrange(1 << 30):x}.db"
        yield f"sqlite:///{path}"
        return
    from tests.helpers.postgres import postgres_unreachable_reason, throwaway_database

    reason = postgres_unreachable_reason()
    if reason:
        raise SystemExit(reason)
    with throwaway_database("memtui_bench") as url:
        yield url


# --- worker processes (module level so spawn can import them) ----------------------------


def insert_worker(url: str, writer: int, count: int, batch: int, start: Any, result: Any) -> None:
    store = open_store(url)
    rng = random.Random(writer)
    session = f"sess_bench_w{writer}"
    base = datetime(2026, 1, 1, tzinfo=UTC)
    start.wait(120)  # a barrier: the clock starts once every writer has imported
    began = time.perf_counter()
    for first in range(0, count, batch):
        store.add_memories(
            [
                make_memory(rng, "agt-bench", session, base + timedelta(seconds=n), n)
                for n in range(first, min(first + batch, count))
            ]
        )
    result.put((writer, time.perf_counter() - began))
    store.close()


def background_writer(url: str, writer: int, batch: int, stop: Any, commits: str | None) -> None:
    """Inserts until told to stop; appends "<first memory id> <wall time after commit>"
    to the file `commits` after each batch."""
    store = open_store(url)
    rng = random.Random(1000 + writer)
    session = f"sess_bg_w{writer}"
    n = 0
    out = open(commits, "a", encoding="utf-8") if commits else None  # noqa: SIM115
    while not stop.is_set():
        memories = store.add_memories(
            [
                make_memory(rng, "agt-bg", session, datetime.now(UTC), n + i, tag="bg")
                for i in range(batch)
            ]
        )
        committed = time.time()
        if out is not None:
            out.write(f"{memories[0].id} {committed}\n")
            out.flush()
        n += batch
        time.sleep(0.01)  # a busy but not saturating agent
    if out is not None:
        out.close()
    store.close()


def wait_for_first_commit(paths: list[Path], timeout: float = 60.0) -> None:
    """Spawned writers take a second or two to import; measure only once all write."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.exists() and p.stat().st_size > 0 for p in paths):
            return
        time.sleep(0.05)
    raise SystemExit("the background writers did not start writing within a minute")


def prepare_sessions(url: str, sessions: list[str], agent: str) -> None:
    store = open_store(url)
    try:
        for session in sessions:
            store.create_session(agent, session_id=session, ttl=None)
    finally:
        store.close()


# --- sections ----------------------------------------------------------------------------


def bench_insert(
    kind: str, workdir: Path, total: int, batch: int, writer_counts: tuple[int, ...] = (1, 4, 8)
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for writers in writer_counts:
        with backend_url(kind, workdir) as url:
            prepare_sessions(url, [f"sess_bench_w{n}" for n in range(writers)], "agt-bench")
            start, result = SPAWN.Barrier(writers + 1), SPAWN.Queue()
            per_writer = total // writers
            processes = [
                SPAWN.Process(target=insert_worker, args=(url, n, per_writer, batch, start, result))
                for n in range(writers)
            ]
            for process in processes:
                process.start()
            start.wait(120)
            began = time.perf_counter()
            for process in processes:
                process.join(600)
            wall = time.perf_counter() - began
            rate = per_writer * writers / wall
            figures[f"{writers}_writers_per_s"] = round(rate)
            print(
                f"  insert {kind:8} {writers} writer(s): {rate:9.0f} memories/s "
                f"({per_writer * writers} in {wall:.2f} s, batches of {batch})",
                flush=True,
            )
    return figures


def timed(fn: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return samples


def bench_timeline(kind: str, workdir: Path, session_size: int, seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with backend_url(kind, workdir) as url:
        prepare_sessions(url, ["sess_big"] + [f"sess_bg_w{n}" for n in range(4)], "agt-bench")
        store = open_store(url)
        rng = random.Random(7)
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for first in range(0, session_size, 2000):
            store.add_memories(
                [
                    make_memory(rng, "agt-bench", "sess_big", base + timedelta(seconds=n), n)
                    for n in range(first, min(first + 2000, session_size))
                ]
            )

        def pages() -> None:
            page = store.list_memories(MemoryQuery(session_id="sess_big", limit=50))
            store.list_memories(
                MemoryQuery(session_id="sess_big", limit=50, after=page.next_cursor)
            )

        def newest() -> None:
            store.list_memories(MemoryQuery(session_id="sess_big", limit=50))

        timed(newest, 20)  # warm up
        for label, load in (("idle", False), ("4_writers", True)):
            stop = SPAWN.Event()
            processes = []
            if load:
                paths = [workdir / f"timeline-{kind}-{n}.txt" for n in range(4)]
                processes = [
                    SPAWN.Process(target=background_writer, args=(url, n, 20, stop, str(paths[n])))
                    for n in range(4)
                ]
                for process in processes:
                    process.start()
                wait_for_first_commit(paths)
            samples_newest: list[float] = []
            samples_next: list[float] = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                began = time.perf_counter()
                page = store.list_memories(MemoryQuery(session_id="sess_big", limit=50))
                mid = time.perf_counter()
                store.list_memories(
                    MemoryQuery(session_id="sess_big", limit=50, after=page.next_cursor)
                )
                samples_newest.append(mid - began)
                samples_next.append(time.perf_counter() - mid)
                time.sleep(0.005)
            stop.set()
            for process in processes:
                process.join(60)
            for name, samples in (("newest", samples_newest), ("next", samples_next)):
                p50, p99 = percentile(samples, 50), percentile(samples, 99)
                figures[f"{label}_{name}_p50_ms"] = round(p50 * 1000, 3)
                figures[f"{label}_{name}_p99_ms"] = round(p99 * 1000, 3)
                print(
                    f"  timeline {kind:8} {label:9} {name:6} page: p50 {ms(p50)}, "
                    f"p99 {ms(p99)} ({len(samples)} pages)",
                    flush=True,
                )
        store.close()
    return figures


def bench_feed(kind: str, workdir: Path, seconds: float, poll: float) -> dict[str, Any]:
    from memtui.domain.models import ChangeKind

    with backend_url(kind, workdir) as url:
        prepare_sessions(url, [f"sess_bg_w{n}" for n in range(4)], "agt-bench")
        store = open_store(url)
        cursor = store.latest_change_id()
        seen: dict[str, float] = {}
        stop_follow = threading.Event()

        def follow() -> None:
            nonlocal cursor
            while not stop_follow.is_set():
                batch = store.changes_since(cursor, limit=1000)
                now = time.time()
                for change in batch:
                    if change.kind == ChangeKind.MEMORY_CREATED:
                        seen.setdefault(change.entity_id, now)
                    cursor = change.id
                if not batch:
                    time.sleep(poll)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        stop = SPAWN.Event()
        paths = [workdir / f"commits-{kind}-{n}.txt" for n in range(4)]
        processes = [
            SPAWN.Process(target=background_writer, args=(url, n, 10, stop, str(paths[n])))
            for n in range(4)
        ]
        for process in processes:
            process.start()
        wait_for_first_commit(paths)
        time.sleep(seconds)
        stop.set()
        for process in processes:
            process.join(60)
        committed: dict[str, float] = {}
        for path in paths:
            for line in path.read_text(encoding="utf-8").splitlines():
                memory_id, at = line.split()
                committed[memory_id] = float(at)
        time.sleep(0.5)
        stop_follow.set()
        follower.join(10)
        store.close()
    delays = [max(0.0, seen[i] - at) for i, at in committed.items() if i in seen]
    missing = len(committed) - len(delays)
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    print(
        f"  feed     {kind:8} commit -> follower: p50 {ms(p50)}, p99 {ms(p99)} "
        f"({len(delays)} commits, follower polls every {poll * 1000:.0f} ms when idle, "
        f"{missing} never seen)",
        flush=True,
    )
    return {
        "p50_ms": round(p50 * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "commits": len(delays),
        "never_seen": missing,
    }


def generate_million(url: str, total: int, sessions: int, big_session_size: int) -> None:
    """`total` memories over `sessions` sessions of 20 agents, one of them holding
    `big_session_size` memories (the context build's session)."""
    store = open_store(url)
    agents = [f"agt-{n:02d}" for n in range(20)]
    names = ["sess_big"] + [f"sess_{n:05d}" for n in range(sessions - 1)]
    for n, name in enumerate(names):
        store.create_session(agents[n % len(agents)], session_id=name, ttl=None)
    rng = random.Random(42)
    base = datetime(2025, 6, 1, tzinfo=UTC)
    spread = 365 * 86400
    written = 0
    began = time.perf_counter()
    batch: list[NewMemory] = []

    def flush() -> None:
        nonlocal written
        if batch:
            store.add_memories(batch)
            written += len(batch)
            batch.clear()
            if written % 100_000 < 5000:
                rate = written / (time.perf_counter() - began)
                print(f"    generated {written:>9} memories ({rate:.0f}/s)", flush=True)

    for n in range(big_session_size):
        at = base + timedelta(seconds=spread * n / big_session_size)
        batch.append(make_memory(rng, agents[0], "sess_big", at, n))
        if len(batch) >= 5000:
            flush()
    for n in range(total - big_session_size):
        index = 1 + n % (sessions - 1)
        at = base + timedelta(seconds=rng.randrange(spread))
        batch.append(make_memory(rng, agents[index % len(agents)], names[index], at, n))
        if len(batch) >= 5000:
            flush()
    flush()
    store.close()


def bench_million(kind: str, workdir: Path, total: int, repeat: int) -> dict[str, Any]:
    from memtui.domain.tokens import get_encoding

    figures: dict[str, Any] = {}
    with backend_url(kind, workdir) as url:
        began = time.perf_counter()
        generate_million(url, total, sessions=max(2, total // 400), big_session_size=10_000)
        generate_s = time.perf_counter() - began
        figures["generate_s"] = round(generate_s, 1)
        figures["generate_per_s"] = round(total / generate_s)
        print(
            f"  million  {kind:8} generated {total} memories in {generate_s:.1f} s "
            f"({total / generate_s:.0f}/s, one process, batches of 5000)",
            flush=True,
        )
        store = open_store(url)
        if kind == "postgresql" or kind == "postgres":
            # Settled, as autovacuum leaves a table after a million inserts: statistics,
            # and a visibility map (without one, the context build's COUNT of the
            # session is a bitmap heap scan instead of an index-only scan: ~3x slower).
            with store.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
        # a session of ~400 memories, and the 10k one deep at memory 9000
        small = "sess_00123"
        newest = timed(lambda: store.list_memories(MemoryQuery(session_id=small, limit=50)), repeat)
        big_ids = store.list_memories(
            MemoryQuery(session_id="sess_big", limit=1, offset=9000)
        ).memories
        deep_cursor = MemoryCursor(big_ids[0].time, big_ids[0].id)
        deep = timed(
            lambda: store.list_memories(
                MemoryQuery(session_id="sess_big", limit=50, after=deep_cursor)
            ),
            repeat,
        )
        big_newest = timed(
            lambda: store.list_memories(MemoryQuery(session_id="sess_big", limit=50)), repeat
        )
        agent_newest = timed(
            lambda: store.list_memories(MemoryQuery(agent_id="agt-05", limit=50)), repeat
        )
        for name, samples in (
            ("session_newest_page", newest),
            ("big_session_newest_page", big_newest),
            ("big_session_deep_page_9000", deep),
            ("agent_newest_page", agent_newest),
        ):
            figures[f"{name}_p50_ms"] = round(percentile(samples, 50) * 1000, 3)
            print(
                f"  million  {kind:8} {name:27}: p50 {ms(percentile(samples, 50))}, "
                f"p99 {ms(percentile(samples, 99))}",
                flush=True,
            )
        encoding = get_encoding("cl100k_base")
        for budget in (2000, 8000):
            request = ContextRequest(max_tokens=budget)
            result = store.build_context("sess_big", request)
            rounds = max(3, repeat // 4)
            builds = timed(lambda r=request: store.build_context("sess_big", r), rounds)
            encodes = timed(lambda text=result.context: encoding.encode_ordinary(text), rounds)
            build, encode = statistics.median(builds), statistics.median(encodes)
            figures[f"context_{budget}_ms"] = round(build * 1000, 2)
            figures[f"tiktoken_{budget}_ms"] = round(encode * 1000, 2)
            print(
                f"  million  {kind:8} context max_tokens={budget}: {ms(build)} "
                f"(tiktoken alone on the result: {ms(encode)}, ratio {build / encode:.1f}x; "
                f"{result.memory_count} memories, {result.token_count} tokens)",
                flush=True,
            )
        store.close()
    figures["peak_rss_mb"] = round(peak_rss_mb())
    return figures


def bench_stress(kind: str, workdir: Path, writers: int, memories: int) -> dict[str, Any]:
    from tests.scale.harness import run_stress

    with backend_url(kind, workdir) as url:
        report = run_stress(
            url, workdir, writers=writers, memories_per_writer=memories, batch_size=10
        )
    conflicts = sum(r["conflicts"] for r in report.writer_results)
    print(
        f"  stress   {kind:8} {writers} writers x {memories} memories (+ a working-memory "
        f"update per batch): {report.seconds:.1f} s, {report.total_changes} changes followed, "
        f"{conflicts} version conflicts retried, problems: {report.problems() or 'none'}",
        flush=True,
    )
    return {
        "seconds": round(report.seconds, 1),
        "changes": report.total_changes,
        "conflicts_retried": conflicts,
        "problems": report.problems(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--only", default="insert,timeline,feed,million,stress")
    parser.add_argument("--million", type=int, default=None, help="memories in the big store")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    quick = args.quick
    sections = args.only.split(",")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memtui-bench-") as tmp:
        workdir = Path(tmp)
        for kind in args.backends.split(","):
            print(f"== {kind}", flush=True)
            out = results.setdefault(kind, {})
            if "insert" in sections:
                out["insert"] = bench_insert(kind, workdir, 8000 if quick else 48_000, 50)
            if "timeline" in sections:
                out["timeline"] = bench_timeline(
                    kind, workdir, 2000 if quick else 20_000, 2.0 if quick else 8.0
                )
            if "feed" in sections:
                out["feed"] = bench_feed(kind, workdir, 2.0 if quick else 8.0, 0.01)
            if "million" in sections:
                total = args.million or (20_000 if quick else 1_000_000)
                out["million"] = bench_million(kind, workdir, total, 20 if quick else 100)
            if "stress" in sections:
                writers, memories = (4, 300) if quick else (8, 2000)
                out["stress"] = bench_stress(kind, workdir, writers, memories)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
