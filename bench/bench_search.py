"""Full-text index benchmark (schema version 5, memtui.store.search_index).

    python bench/bench_search.py                        # 200,000 memories, SQLite
    python bench/bench_search.py --memories 1000000
    python bench/bench_search.py --db postgresql+psycopg://postgres@127.0.0.1:5432/<empty db>
        (with --bare-db a second empty database for the store without the index)

Two stores get the same memories through the public `add_memories` (batches of 1,000,
sessions interleaved): one as memtui makes it, one with the index dropped right after
creation (the search then scans with LIKE, as before version 5). Reported:
- the write cost: memories per second and CPU-seconds of each insert, and disk size;
- the text filter (MemoryQuery.content_contains, what the timeline filter, /search and
  recall run): first page of 100 (newest first) and the count, for a rare word (in
  ~0.01% of memories) and a common one (in ~30%), in the biggest session (5% of all
  memories) and the biggest agent's scope; median of 9 after one warm-up.
Prints a markdown table with `uptime`'s load beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memtui.domain.clock import frozen_clock  # noqa: E402
from memtui.domain.models import MemoryQuery, NewMemory  # noqa: E402
from memtui.store import SqlStore  # noqa: E402
from memtui.store.search_index import FTS_TABLE, TRIGRAM_INDEX  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"
START = datetime(2026, 1, 1, tzinfo=UTC)
_WORD_TEXT = (
    "agent retrieved document summary decision token refresh user invoice query index "
    "latency error retry cache session context budget vector embedding rerank answer "
    "pipeline partition warehouse customer refund plan test deploy branch commit"
)
WORDS = tuple(_WORD_TEXT.split())
RARE = "zanzibar"  # in ~0.01% of memories
COMMON = "warehouse"  # one of 30 words, 6-24 words a memory: in ~30-50%
RUNS = 9


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def fill(store: SqlStore, memories: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    sessions = [f"sess_{i:04d}" for i in range(400)]
    started, cpu = time.perf_counter(), time.process_time()
    batch: list[NewMemory] = []
    for n in range(memories):
        # One session holds 5%; the rest spread over 20 agents' sessions.
        session = "sess_big" if n % 20 == 0 else rng.choice(sessions)
        agent = "agent_big" if session == "sess_big" else f"agent_{int(session[5:]) % 20:02d}"
        words = rng.choices(WORDS, k=rng.randint(6, 24))
        if rng.random() < 0.0001:
            words.insert(rng.randrange(len(words)), RARE.capitalize())
        batch.append(
            NewMemory(
                agent_id=agent,
                session_id=session,
                content=" ".join(words),
                time=START + timedelta(seconds=n),
            )
        )
        if len(batch) == 1000:
            store.add_memories(batch)
            batch = []
    if batch:
        store.add_memories(batch)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "per_second": memories / seconds,
        "cpu_seconds": time.process_time() - cpu,
    }


def drop_index(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        if store.is_sqlite:
            for trigger in ("memory_fts_insert", "memory_fts_delete", "memory_fts_update"):
                conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
            conn.exec_driver_sql(f"DROP TABLE {FTS_TABLE}")
        else:
            conn.exec_driver_sql(f"DROP INDEX {TRIGRAM_INDEX}")
    if store.is_sqlite:
        # ...and the filter scans with its LIKE alone, as before schema version 5 (the
        # indexed store was measured first).
        import memtui.store.repos.memories as memories_repo

        memories_repo.indexed_candidates = lambda _conn, _needle: None  # type: ignore[assignment]


def size_mb(store: SqlStore, path: Path | None) -> float:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    with store.engine.connect() as conn:
        return (
            float(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar())
            / 1e6
        )


def timed(fn: Any) -> float:
    fn()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def queries(store: SqlStore) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scope, where in (
        ("session", {"session_id": "sess_big"}),
        ("agent", {"agent_id": "agent_big"}),
    ):
        for label, word in (("rare", RARE), ("common", COMMON)):
            query = MemoryQuery(**where, content_contains=word, limit=100)
            page = timed(lambda q=query: store.list_memories(q))
            count = timed(lambda q=query: store.count_memories(q))
            out[f"{scope} {label}"] = (page, count, store.count_memories(query))
    return out


def open_store(
    url: str | None, name: str, memories: int, keep: bool = False
) -> tuple[SqlStore, Path | None]:
    if url is not None:
        return SqlStore(url, clock=frozen_clock(START)), None
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"search_{name}_{memories}.db"
    for old in path.parent.glob(path.name + "*"):
        if not keep:
            old.unlink()
    return SqlStore(f"sqlite:///{path}", clock=frozen_clock(START)), path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="PostgreSQL URL of an empty database (default: SQLite)")
    parser.add_argument("--bare-db", help="PostgreSQL: a second empty database")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="SQLite: time the queries on the stores made before",
    )
    args = parser.parse_args()
    print(f"load before: {load()}", flush=True)
    results: dict[str, Any] = {}
    for name, url in (("indexed", args.db), ("bare", args.bare_db if args.db else None)):
        store, path = open_store(url, name, args.memories, keep=args.queries_only)
        if name == "bare" and not args.queries_only:
            drop_index(store)
        if name == "bare" and args.queries_only:
            import memtui.store.repos.memories as memories_repo

            memories_repo.indexed_candidates = lambda _conn, _needle: None  # type: ignore[assignment]
        nothing = {"seconds": 0.0, "per_second": 0.0, "cpu_seconds": 0.0}
        write = nothing if args.queries_only else fill(store, args.memories, args.seed)
        results[name] = {"write": write, "size": size_mb(store, path), "queries": queries(store)}
        store.close()
        print(f"{name}: done, load {load()}", file=sys.stderr, flush=True)
    indexed, bare = results["indexed"], results["bare"]
    kind = "PostgreSQL" if args.db else "SQLite"
    print(f"\n{args.memories:,} memories, {kind}, pid {os.getpid()}\n")
    print("| | with the index | without (LIKE scan) |")
    print("|---|---|---|")
    for key, label in (("per_second", "insert, memories/s"), ("cpu_seconds", "insert, CPU-s")):
        print(f"| {label} | {indexed['write'][key]:,.0f} | {bare['write'][key]:,.0f} |")
    print(f"| disk, MB | {indexed['size']:,.0f} | {bare['size']:,.0f} |")
    for key, (page, count, matches) in indexed["queries"].items():
        bare_page, bare_count, bare_matches = bare["queries"][key]
        assert matches == bare_matches, key
        print(
            f"| {key} word ({matches:,} matches): first page / count, ms "
            f"| {page:.1f} / {count:.1f} | {bare_page:.1f} / {bare_count:.1f} |"
        )
    print(f"\nload after: {load()}")


if __name__ == "__main__":
    main()
