"""Store benchmark: 1M memories over ~3,000 sessions, timeline pages, `memtui --version`.

    python bench/bench_store.py                       # 1,000,000 memories, SQLite
    python bench/bench_store.py --memories 100000     # smaller
    python bench/bench_store.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Every step runs in its own subprocess so its peak RSS is its own. Inserts go through
the public `add_memories` in batches (default 5,000): the real write path, with tag
rows and change-feed rows in the same transaction; nothing is bypassed. The generated
SQLite file stays in bench/data/ (gitignored) and is reused when it already holds the
requested number of memories (`--fresh` rebuilds it).

Prints a markdown table of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=60)
_WORD_TEXT = (
    "agent retrieved document summary decision token refresh user invoice query index "
    "latency error retry cache session context budget vector embedding rerank answer "
    "pipeline partition warehouse customer refund plan test deploy branch commit"
)
WORDS = tuple(_WORD_TEXT.split())
TAGS = [f"tag{i}" for i in range(40)]
TYPES = ["episodic"] * 6 + ["decision", "entity", "session", "observation"]
PAGE = 100
REPEATS = 25


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def session_plan(
    sessions: int, agents: int, memories: int, seed: int
) -> list[tuple[str, str, int]]:
    """(session_id, agent_id, memory count): one big session (5%), the rest skewed."""
    rng = random.Random(seed)
    big = memories // 20
    weights = [rng.paretovariate(1.5) for _ in range(sessions - 1)]
    total = sum(weights)
    counts = [int((memories - big) * w / total) for w in weights]
    counts[0] += memories - big - sum(counts)
    plan = [("sess_bench_big", "agent_00", big)]
    plan += [
        (f"sess_bench_{i:05d}", f"agent_{i % agents:02d}", count)
        for i, count in enumerate(counts, start=1)
    ]
    return plan


# --- steps (each runs in a subprocess) ------------------------------------------------


def step_insert(args: argparse.Namespace) -> dict[str, Any]:
    from memtui.domain.clock import frozen_clock
    from memtui.domain.models import NewMemory, Session
    from memtui.store import SqlStore

    store = SqlStore(args.db, clock=frozen_clock(START + SPAN))
    rng = random.Random(args.seed)
    plan = session_plan(args.sessions, args.agents, args.memories, args.seed)
    started = time.perf_counter()
    for session_id, agent_id, _count in plan:
        store.import_session(
            Session(
                id=session_id,
                agent_id=agent_id,
                status="active",
                created_at=START,
                updated_at=START,
                expires_at=None,
            )
        )
    sessions_seconds = time.perf_counter() - started

    # Interleave sessions the way real traffic does: each batch mixes many sessions.
    remaining = {sid: count for sid, _agent, count in plan}
    agent_of = {sid: agent for sid, agent, _count in plan}
    step_of = {sid: SPAN / max(count, 1) for sid, _agent, count in plan}
    position = dict.fromkeys(remaining, 0)
    order = [sid for sid, count in remaining.items() for _ in range(count)]
    rng.shuffle(order)

    batch: list[NewMemory] = []
    batch_seconds: list[float] = []
    inserted = 0
    insert_started = time.perf_counter()
    for session_id in order:
        index = position[session_id]
        position[session_id] = index + 1
        batch.append(
            NewMemory(
                agent_id=agent_of[session_id],
                session_id=session_id,
                content=" ".join(rng.choices(WORDS, k=rng.randint(6, 24))),
                memory_type=rng.choice(TYPES),
                event_type="error" if rng.random() < 0.03 else "general",
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                importance=round(rng.random(), 2),
                metadata={"i": index},
                time=START + step_of[session_id] * index,
            )
        )
        if len(batch) == args.batch:
            t = time.perf_counter()
            inserted += len(store.add_memories(batch))
            batch_seconds.append(time.perf_counter() - t)
            batch = []
    if batch:
        t = time.perf_counter()
        inserted += len(store.add_memories(batch))
        batch_seconds.append(time.perf_counter() - t)
    insert_seconds = time.perf_counter() - insert_started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    store.close()
    return {
        "sessions": len(plan),
        "sessions_seconds": sessions_seconds,
        "memories": inserted,
        "insert_seconds": insert_seconds,
        "memories_per_second": inserted / insert_seconds,
        # CPU seconds of this process (generation included): the figure that does not
        # depend on how busy the machine is.
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "batch_median_ms": statistics.median(batch_seconds) * 1000,
        "batch_p95_ms": sorted(batch_seconds)[int(len(batch_seconds) * 0.95)] * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def _timed(fn: Any, repeats: int = REPEATS) -> tuple[float, float, Any]:
    """(median ms, max ms, last result); the first call warms caches and is dropped."""
    result = fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples), result


def step_pages(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from memtui.domain.models import MemoryCursor, MemoryQuery
    from memtui.store import SqlStore
    from memtui.store.rows import memory_t

    open_started = time.perf_counter()
    store = SqlStore(args.db)
    open_ms = (time.perf_counter() - open_started) * 1000
    out: dict[str, Any] = {"open_ms": open_ms}
    with store.engine.connect() as conn:
        biggest_agent = conn.execute(
            select(memory_t.c.agent_id, func.count())
            .group_by(memory_t.c.agent_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    targets = {
        "session": ("session_id", "sess_bench_big"),
        "agent": ("agent_id", biggest_agent[0]),
    }
    for label, (column, value) in targets.items():
        query = MemoryQuery(**{column: value}, limit=PAGE)
        total = store.count_memories(query)
        # Set-up, not timed: the (time, id) of the row 90% into the timeline.
        with store.engine.connect() as conn:
            row = conn.execute(
                select(memory_t.c.time, memory_t.c.id)
                .where(memory_t.c[column] == value)
                .order_by(memory_t.c.time.desc(), memory_t.c.id.desc())
                .offset(min(int(total * 0.9), total - PAGE - 1))
                .limit(1)
            ).one()
        from memtui.store.tables import UTCDateTime

        cursor_time = UTCDateTime().process_result_value(row[0], store.engine.dialect)
        cursor = MemoryCursor(time=cursor_time, id=row[1])
        newest_ms, newest_max, newest = _timed(lambda q=query: store.list_memories(q))
        deep_query = MemoryQuery(**{column: value}, limit=PAGE, after=cursor)
        deep_ms, deep_max, deep = _timed(lambda q=deep_query: store.list_memories(q))
        asc_query = MemoryQuery(**{column: value}, limit=PAGE, order="asc")
        asc_ms, _asc_max, _ = _timed(lambda q=asc_query: store.list_memories(q))
        count_ms, _count_max, _ = _timed(lambda q=query: store.count_memories(q), repeats=5)
        assert newest.count == PAGE and deep.count == PAGE
        out[label] = {
            "id": value,
            "memories": total,
            "newest_page_ms": newest_ms,
            "newest_page_max_ms": newest_max,
            "deep_page_ms": deep_ms,
            "deep_page_max_ms": deep_max,
            "oldest_page_ms": asc_ms,
            "count_ms": count_ms,
        }
    global_ms, _gmax, _ = _timed(lambda: store.list_memories(MemoryQuery(limit=PAGE)))
    types_ms, _tmax, _ = _timed(lambda: store.list_memory_types())
    out["global_newest_page_ms"] = global_ms
    out["memory_types_ms"] = types_ms
    out["peak_rss_mb"] = peak_rss_mb()
    store.close()
    return out


def step_version(_args: argparse.Namespace) -> dict[str, Any]:
    samples = []
    for _ in range(10):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "memtui", "--version"], check=True, capture_output=True
        )
        samples.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(samples), "max_ms": max(samples)}


STEPS = {"insert": step_insert, "pages": step_pages, "version": step_version}


# --- driver ---------------------------------------------------------------------------


def run_step(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--step", name, "--db", args.db]
    command += ["--memories", str(args.memories), "--sessions", str(args.sessions)]
    command += ["--agents", str(args.agents), "--batch", str(args.batch)]
    command += ["--seed", str(args.seed)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"step {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def existing_count(db: str) -> int:
    from memtui.domain.errors import MemtuiError
    from memtui.domain.models import MemoryQuery
    from memtui.store import SqlStore

    try:
        store = SqlStore(db)
    except MemtuiError:
        return 0
    try:
        return store.count_memories(MemoryQuery())
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="SQLAlchemy URL (default: a SQLite file in bench/data/)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the store")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return

    path = DATA_DIR / f"bench_{args.memories}.db"
    if args.db is None:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        args.db = f"sqlite:///{path}"
        if args.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    figures: dict[str, Any] = {}
    have = existing_count(args.db)
    if have == args.memories:
        print(f"reusing {args.db} ({have:,} memories); --fresh rebuilds it", file=sys.stderr)
    elif have:
        sys.exit(f"{args.db} holds {have:,} memories, not {args.memories:,}: use --fresh")
    else:
        print(f"inserting {args.memories:,} memories into {args.db} …", file=sys.stderr)
        figures["insert"] = run_step("insert", args)
    figures["pages"] = run_step("pages", args)
    figures["version"] = run_step("version", args)
    if args.db.startswith("sqlite:///"):
        file = Path(args.db.removeprefix("sqlite:///"))
        figures["db_size_mb"] = file.stat().st_size / 2**20 if file.exists() else None
    print(render(figures, args))
    out = BENCH_DIR / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_store.json").write_text(json.dumps(figures, indent=2, default=str))


def render(figures: dict[str, Any], args: argparse.Namespace) -> str:
    pages = figures["pages"]
    rows = [
        f"Store benchmark: {args.memories:,} memories, {args.sessions:,} sessions, "
        f"{args.agents} agents, `{args.db.split('@')[-1]}`, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs",
        "",
        "| step | figure | peak RSS |",
        "|---|---|---|",
    ]
    if "insert" in figures:
        ins = figures["insert"]
        rows.append(
            f"| insert via add_memories, batches of {args.batch:,} | "
            f"**{ins['memories_per_second']:,.0f} memories/s** ({ins['memories']:,} in "
            f"{ins['insert_seconds']:.1f} s; batch median {ins['batch_median_ms']:.0f} ms, "
            f"p95 {ins['batch_p95_ms']:.0f} ms; {ins['cpu_seconds']:.0f} CPU-s in the "
            f"process) | {ins['peak_rss_mb']:.0f} MB |"
        )
        rows.append(
            f"| create {ins['sessions']:,} sessions | {ins['sessions_seconds']:.1f} s | (same) |"
        )
    rss = f"{pages['peak_rss_mb']:.0f} MB"
    rows.append(f"| open store (schema check) | {pages['open_ms']:.1f} ms | {rss} |")
    for label in ("session", "agent"):
        p = pages[label]
        what = f"{label} timeline ({p['memories']:,} memories)"
        rows.append(
            f"| {what}: newest page of {PAGE} | **{p['newest_page_ms']:.2f} ms** median "
            f"(max {p['newest_page_max_ms']:.2f}) | {rss} |"
        )
        rows.append(
            f"| {what}: page 90% deep (keyset) | **{p['deep_page_ms']:.2f} ms** median "
            f"(max {p['deep_page_max_ms']:.2f}) | {rss} |"
        )
        rows.append(f"| {what}: oldest page (asc) | {p['oldest_page_ms']:.2f} ms | {rss} |")
        rows.append(f"| {what}: count_memories | {p['count_ms']:.1f} ms | {rss} |")
    rows.append(
        f"| global timeline: newest page | {pages['global_newest_page_ms']:.2f} ms | {rss} |"
    )
    rows.append(f"| list_memory_types (all) | {pages['memory_types_ms']:.2f} ms | {rss} |")
    version = figures["version"]
    rows.append(
        f"| `memtui --version` wall time | **{version['median_ms']:.0f} ms** median of 10 "
        f"(max {version['max_ms']:.0f}) | – |"
    )
    if figures.get("db_size_mb"):
        rows.append(f"| database file size | {figures['db_size_mb']:,.0f} MB | – |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
