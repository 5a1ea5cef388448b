"""History cost: bytes per memory on disk and the insert overhead of history.

    python bench/bench_history.py                  # 50,000 memories, SQLite, 5 rounds
    python bench/bench_history.py --memories 200000 --rounds 7
    python bench/bench_history.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

History is the change feed (every change row holds the object's JSON, which the feed
had before history) plus what schema 5 adds to each insert: the `actor` column and the
`ix_change_entity` index an object's history is read through. "History off" is the same
store with that index dropped and no actor written: the insert path as it was before
schema 5. Each round fills a fresh store through the public `add_memories` (batches of
500, realistic contents) once with history on and once off, alternating which goes
first; the table gives the median seconds and the slowdown. `uptime` is printed before
and after: the machine is shared.

Bytes per memory: the SQLite file's size over the memory count, and the change table's
share of it (sqlite's dbstat when it is compiled in).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memtui.domain.clock import ManualClock  # noqa: E402
from memtui.domain.models import NewMemory  # noqa: E402
from memtui.store import SqlStore  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
_WORD_TEXT = (
    "agent retrieved document summary decision token refresh user invoice query index "
    "latency error retry cache session context budget vector embedding rerank answer "
    "pipeline partition warehouse customer refund plan test deploy branch commit"
)
WORDS = tuple(_WORD_TEXT.split())
TYPES = ["episodic"] * 6 + ["decision", "entity", "session"]
BATCH = 500
DROPPED_TABLES = (
    "trash",
    "change",
    "memory_tag",
    "memory",
    "working_memory",
    "snapshot",
    "session",
    "agent",
)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def memories(count: int, seed: int) -> list[NewMemory]:
    rng = random.Random(seed)
    made = []
    for n in range(count):
        words = rng.randint(12, 60)
        made.append(
            NewMemory(
                agent_id=f"agent{n % 7}",
                session_id=f"sess_{n % 50:03d}",
                content=" ".join(rng.choice(WORDS) for _ in range(words)),
                memory_type=rng.choice(TYPES),
                tags=[f"tag{rng.randint(0, 30)}" for _ in range(rng.randint(0, 3))],
                importance=rng.choice([None, 0.2, 0.5, 0.9]),
                time=START + timedelta(seconds=n),
            )
        )
    return made


def fill(url: str, rows: list[NewMemory], *, history: bool) -> float:
    store = SqlStore(url, clock=ManualClock(START))
    try:
        for session in sorted({m.session_id for m in rows if m.session_id}):
            store.create_session("bench", session_id=session, ttl=None)
        if not history:
            engine = store.engine
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP INDEX ix_change_entity")
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            store.add_memories(rows[start : start + BATCH])
        elapsed = time.perf_counter() - started
        if not history:
            with store.engine.begin() as conn:
                conn.exec_driver_sql('UPDATE "change" SET actor = NULL')
        return elapsed
    finally:
        store.close()


def fresh_url(base: str | None, directory: Path, name: str) -> tuple[str, Path | None]:
    if base is None:
        path = directory / f"{name}.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}", path
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as conn:
        for table in (
            "trash",
            "change",
            "memory_tag",
            "memory",
            "working_memory",
            "snapshot",
            "session",
            "agent",
        ):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        conn.execute(text("DROP TABLE IF EXISTS schema_meta, api_key CASCADE"))
        conn.execute(text("DROP SEQUENCE IF EXISTS memory_seq"))
    engine.dispose()
    return base, None


def sqlite_sizes(path: Path) -> tuple[int, int | None]:
    import sqlite3

    size = path.stat().st_size
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        try:
            row = conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('change', 'ix_change_entity')"
            ).fetchone()
            change = int(row[0]) if row and row[0] is not None else None
        except sqlite3.Error:
            change = None
    return size, change


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", help="a PostgreSQL URL (its tables are dropped!)")
    args = parser.parse_args()

    print(f"load before: {uptime()}")
    rows = memories(args.memories, seed=7)
    times: dict[bool, list[float]] = {True: [], False: []}
    sizes: dict[bool, tuple[int, int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="memtui-bench-history-") as tmp:
        directory = Path(tmp)
        for round_number in range(args.rounds):
            order = (True, False) if round_number % 2 == 0 else (False, True)
            for history in order:
                url, path = fresh_url(args.db, directory, f"h{int(history)}")
                times[history].append(fill(url, rows, history=history))
                if path is not None:
                    sizes[history] = sqlite_sizes(path)
                    path.unlink()
    on = statistics.median(times[True])
    off = statistics.median(times[False])
    kind = "PostgreSQL" if args.db else "SQLite"
    print(f"load after: {uptime()}")
    print()
    print(f"| {kind}, {args.memories:,} memories, batches of {BATCH} | history off | history on |")
    print("|---|---|---|")
    print(
        f"| insert, median of {args.rounds} (s) | {off:.2f} | {on:.2f} "
        f"({(on / off - 1) * 100:+.1f}%) |"
    )
    print(f"| memories per second | {args.memories / off:,.0f} | {args.memories / on:,.0f} |")
    if sizes:
        off_size, off_change = sizes[False]
        on_size, on_change = sizes[True]
        print(
            f"| bytes per memory (whole file) | {off_size / args.memories:,.0f} | "
            f"{on_size / args.memories:,.0f} |"
        )
        if off_change is not None and on_change is not None:
            print(
                f"| of which the change feed (table + ix_change_entity) | "
                f"{off_change / args.memories:,.0f} | {on_change / args.memories:,.0f} |"
            )
    print()
    print(f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
