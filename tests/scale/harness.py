"""Multi-process workloads against a real store, shared by tests/scale and bench/.

Each workload runs real writer processes (spawned, each with its own SqlStore and so
its own connections) against one SQLite file or PostgreSQL database, then checks the
store afterwards through the Backend protocol only. A workload returns a report whose
`problems()` lists every broken guarantee in words; an empty list means it held.

Worker functions live at module level so `spawn` can import them in the children.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtui.domain.errors import VersionConflictError
from memtui.domain.models import ChangeKind, MemoryQuery, NewMemory

SPAWN = multiprocessing.get_context("spawn")
AGENT = "agt-scale"
COUNTER_KEY = "counter"


def open_store(url: str) -> Any:
    from memtui.store import SqlStore

    return SqlStore(url)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _write_json(path: str, data: Any) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def all_memory_ids(store: Any, query: MemoryQuery) -> list[str]:
    """Every matching memory id, paged by keyset cursor."""
    return [m.id for m in all_memories(store, query)]


def all_memories(store: Any, query: MemoryQuery) -> list[Any]:
    """Every matching memory, paged by keyset cursor."""
    found: list[Any] = []
    after = None
    while True:
        page = store.list_memories(
            MemoryQuery(
                agent_id=query.agent_id,
                session_id=query.session_id,
                tags=query.tags,
                limit=1000,
                after=after,
            )
        )
        found.extend(page.memories)
        if not page.has_more or page.next_cursor is None:
            return found
        after = page.next_cursor


def all_changes(store: Any, cursor: int = 0) -> list[Any]:
    changes: list[Any] = []
    while True:
        batch = store.changes_since(cursor, limit=1000)
        if not batch:
            return changes
        changes.extend(batch)
        cursor = batch[-1].id


def increment_counter(store: Any, session_id: str, key: str = COUNTER_KEY) -> int:
    """Read-modify-write with optimistic versions; returns how many conflicts it took."""
    conflicts = 0
    while True:
        item = store.get_working_memory(session_id, key)
        try:
            store.set_working_memory(session_id, key, item.value + 1, expected_version=item.version)
            return conflicts
        except VersionConflictError:
            conflicts += 1
            if conflicts > 10_000:
                raise


# --- (a) stress: writers + a change-feed follower ----------------------------------------


def stress_writer(
    url: str,
    writer: int,
    memories: int,
    batch_size: int,
    counter_session: str,
    start: Any,
    result_path: str,
) -> None:
    """Adds `memories` memories in batches and bumps the shared counter after each batch.
    Every exception is reported back as text, never raised."""
    result: dict[str, Any] = {"memory_ids": [], "increments": 0, "conflicts": 0, "errors": []}
    store = None
    try:
        store = open_store(url)
        session_id = f"sess_w{writer}"
        start.wait(60)
        for first in range(0, memories, batch_size):
            batch = [
                NewMemory(
                    agent_id=AGENT,
                    session_id=session_id,
                    content=f"writer {writer} memory {n}",
                    memory_type=("episodic", "decision", "entity", "session")[n % 4],
                    tags=[f"w{writer}", f"w{writer}-b{first // batch_size}"],
                    importance=(n % 10) / 10,
                    metadata={"writer": writer, "n": n},
                )
                for n in range(first, min(first + batch_size, memories))
            ]
            try:
                result["memory_ids"].extend(m.id for m in store.add_memories(batch))
            except Exception as exc:  # reported, so the parent can name it
                result["errors"].append(f"add_memories: {_describe(exc)}")
                continue
            try:
                result["conflicts"] += increment_counter(store, counter_session)
                result["increments"] += 1
            except Exception as exc:
                result["errors"].append(f"working memory: {_describe(exc)}")
    except Exception as exc:
        result["errors"].append(f"writer {writer}: {_describe(exc)}\n{traceback.format_exc()}")
    finally:
        if store is not None:
            store.close()
        _write_json(result_path, result)


class ChangeFollower(threading.Thread):
    """Follows the change feed by cursor the way the server's SSE and the TUI do:
    poll `changes_since(cursor)`, remember the last id, sleep a little when idle."""

    def __init__(self, url: str, cursor: int, poll_seconds: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.cursor = cursor
        self.poll_seconds = poll_seconds
        self.seen: list[Any] = []
        self.errors: list[str] = []
        self.order_violations: list[str] = []
        self.stop_at: int | None = None  # set by the parent: stop once cursor reaches it
        self.done = threading.Event()
        # (change id, perf_counter when first seen), for the bench's delay figures
        self.seen_at: dict[int, float] = {}

    def run(self) -> None:
        store = open_store(self.url)
        try:
            while True:
                try:
                    batch = store.changes_since(self.cursor, limit=500)
                except Exception as exc:
                    self.errors.append(f"reader: {_describe(exc)}")
                    time.sleep(self.poll_seconds)
                    continue
                now = time.perf_counter()
                for change in batch:
                    if change.id <= self.cursor:
                        self.order_violations.append(
                            f"change {change.id} arrived after cursor {self.cursor}"
                        )
                    self.cursor = max(self.cursor, change.id)
                    self.seen.append(change)
                    self.seen_at[change.id] = now
                if self.stop_at is not None and self.cursor >= self.stop_at:
                    return
                if not batch:
                    time.sleep(self.poll_seconds)
        finally:
            store.close()
            self.done.set()


@dataclass
class StressReport:
    writers: int
    memories_per_writer: int
    seconds: float = 0.0
    writer_results: list[dict[str, Any]] = field(default_factory=list)
    problems_found: list[str] = field(default_factory=list)
    total_changes: int = 0

    def problems(self) -> list[str]:
        return self.problems_found

    @property
    def memories_per_second(self) -> float:
        return self.writers * self.memories_per_writer / self.seconds if self.seconds else 0.0


def _wait_all(processes: list[Any], deadline: float) -> list[str]:
    problems = []
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
            problems.append(f"{process.name} did not finish in time and was killed")
        elif process.exitcode != 0:
            problems.append(f"{process.name} exited with code {process.exitcode}")
    return problems


def run_stress(
    url: str,
    workdir: Path,
    *,
    writers: int,
    memories_per_writer: int,
    batch_size: int = 10,
    timeout: float = 600.0,
) -> StressReport:
    """Runs the writers and a follower to the end, then checks every guarantee."""
    report = StressReport(writers, memories_per_writer)
    problems = report.problems_found
    store = open_store(url)
    counter_session = "sess_counter"
    try:
        store.create_session(AGENT, session_id=counter_session, ttl=None)
        for writer in range(writers):
            store.create_session(AGENT, session_id=f"sess_w{writer}", ttl=None)
        store.set_working_memory(counter_session, COUNTER_KEY, 0, expected_version=0)
        start_cursor = store.latest_change_id()
    finally:
        store.close()

    follower = ChangeFollower(url, start_cursor)
    follower.start()
    start = SPAWN.Event()
    result_paths = [str(workdir / f"writer-{n}.json") for n in range(writers)]
    processes = [
        SPAWN.Process(
            target=stress_writer,
            name=f"writer-{n}",
            args=(url, n, memories_per_writer, batch_size, counter_session, start, path),
        )
        for n, path in enumerate(result_paths)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let the children import before the clock starts
    began = time.perf_counter()
    start.set()
    deadline = time.monotonic() + timeout
    problems.extend(_wait_all(processes, deadline))
    report.seconds = time.perf_counter() - began

    for n, path in enumerate(result_paths):
        try:
            report.writer_results.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except OSError:
            problems.append(f"writer {n} left no result file")
            report.writer_results.append(
                {"memory_ids": [], "increments": 0, "conflicts": 0, "errors": []}
            )

    store = open_store(url)
    try:
        final_changes = all_changes(store, start_cursor)
        final_ids = [c.id for c in final_changes]
        report.total_changes = len(final_ids)
        follower.stop_at = final_ids[-1] if final_ids else start_cursor
        follower.join(max(1.0, deadline - time.monotonic()))
        if follower.is_alive():
            problems.append(
                f"the follower stalled at cursor {follower.cursor}, feed ends at {follower.stop_at}"
            )

        errors = [e for r in report.writer_results for e in r["errors"]] + follower.errors
        problems.extend(f"a process saw an error: {e}" for e in errors[:10])
        locked = [e for e in errors if "locked" in e.lower() or "busy" in e.lower()]
        if locked:
            problems.append(f"{len(locked)} lock errors surfaced, e.g. {locked[0]}")

        # every write present exactly once
        written = [i for r in report.writer_results for i in r["memory_ids"]]
        expected_total = writers * memories_per_writer
        if len(written) != expected_total:
            problems.append(f"writers stored {len(written)} memories, expected {expected_total}")
        duplicates = [i for i, n in Counter(written).items() if n > 1]
        if duplicates:
            problems.append(f"{len(duplicates)} memory ids returned twice")
        stored = []
        for writer in range(writers):
            stored_ids = all_memory_ids(store, MemoryQuery(session_id=f"sess_w{writer}"))
            stored.extend(stored_ids)
            tagged = store.count_memories(MemoryQuery(tags=(f"w{writer}",)))
            if len(stored_ids) != memories_per_writer or tagged != memories_per_writer:
                problems.append(
                    f"writer {writer}: {len(stored_ids)} memories stored ({tagged} by tag), "
                    f"expected {memories_per_writer}"
                )
        if Counter(stored) != Counter(written):
            problems.append("the stored memories differ from those the writers were given")

        # working memory: each successful increment counted exactly once
        increments = sum(r["increments"] for r in report.writer_results)
        counter = store.get_working_memory(counter_session, COUNTER_KEY)
        if counter.value != increments or counter.version != increments + 1:
            problems.append(
                f"counter is {counter.value} (version {counter.version}) after "
                f"{increments} successful increments: an update was lost or doubled"
            )

        # the feed holds exactly what was written, and the follower saw all of it
        created = Counter(c.entity_id for c in final_changes if c.kind == ChangeKind.MEMORY_CREATED)
        if created != Counter(written):
            problems.append(
                f"memory.created changes ({sum(created.values())}) do not match the "
                f"{len(written)} memories written"
            )
        wm_changes = [
            c
            for c in final_changes
            if c.kind == ChangeKind.WORKING_MEMORY_CHANGED and c.session_id == counter_session
        ]
        if len(wm_changes) != increments:
            problems.append(
                f"{len(wm_changes)} working_memory.changed changes for {increments} increments"
            )
        if final_ids != sorted(set(final_ids)):
            problems.append("changes_since did not return strictly increasing ids")
        seen_ids = [c.id for c in follower.seen]
        problems.extend(follower.order_violations[:5])
        missed = sorted(set(final_ids) - set(seen_ids))
        if missed:
            problems.append(
                f"the follower missed {len(missed)} of {len(final_ids)} changes, e.g. ids "
                f"{missed[:5]}"
            )
        extra = sorted(set(seen_ids) - set(final_ids))
        if extra:
            problems.append(f"the follower saw {len(extra)} changes not in the feed: {extra[:5]}")
    finally:
        store.close()
    return report


# --- (b) crash: SIGKILL a writer mid-batch -----------------------------------------------


def crash_writer(url: str, session_id: str, round_no: int, batch_size: int, report: str) -> None:
    """Writes batches forever; appends each batch number to `report` after its commit."""
    store = open_store(url)
    batch_no = 0
    with open(report, "a", encoding="utf-8") as out:
        while True:
            tag = f"r{round_no}-b{batch_no}"
            store.add_memories(
                [
                    NewMemory(
                        agent_id=AGENT,
                        session_id=session_id,
                        content=f"{tag} memory {n} " + "x" * (n % 50),
                        tags=["crash", tag],
                        metadata={"n": n},
                    )
                    for n in range(batch_size)
                ]
            )
            out.write(f"{batch_no}\n")
            out.flush()
            batch_no += 1


def _committed_batches(report: Path) -> list[int]:
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return []
    # a line without its newline was cut short by the kill: the batch may still be
    # present, it just is not known as reported
    return [int(line) for line in text.split("\n")[:-1] if line]


@dataclass
class CrashReport:
    rounds: int
    batch_size: int
    reported_batches: int = 0
    present_batches: int = 0
    unreported_present: int = 0
    problems_found: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.problems_found


def run_crash_rounds(
    url: str,
    workdir: Path,
    *,
    rounds: int,
    batch_size: int,
    integrity_check: Callable[[], str] | None = None,
    warmup_batches: int = 2,
    timeout: float = 120.0,
) -> CrashReport:
    """Each round: start a writer, let it commit a few batches, SIGKILL it at a random
    moment, then check that the store opens and holds whole batches only."""
    report = CrashReport(rounds, batch_size)
    problems = report.problems_found
    session_id = "sess_crash"
    store = open_store(url)
    try:
        store.create_session(AGENT, session_id=session_id, ttl=None)
    finally:
        store.close()

    reported: dict[int, list[int]] = {}
    batch_seconds = 0.05
    for round_no in range(rounds):
        report_path = workdir / f"crash-{round_no}.log"
        process = SPAWN.Process(
            target=crash_writer,
            name=f"crash-writer-{round_no}",
            args=(url, session_id, round_no, batch_size, str(report_path)),
        )
        process.start()
        deadline = time.monotonic() + timeout
        first_seen: float | None = None
        while len(_committed_batches(report_path)) < warmup_batches:
            if not process.is_alive():
                problems.append(f"round {round_no}: the writer died by itself")
                break
            if time.monotonic() > deadline:
                problems.append(f"round {round_no}: the writer committed nothing in time")
                break
            if first_seen is None and _committed_batches(report_path):
                first_seen = time.perf_counter()
            time.sleep(0.005)
        else:
            if first_seen is not None:
                elapsed = time.perf_counter() - first_seen
                batch_seconds = max(0.005, elapsed / max(1, warmup_batches - 1))
        # a random moment inside the next batch or two: most kills land mid-transaction
        time.sleep(random.uniform(0.0, 2 * batch_seconds))
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        reported[round_no] = _committed_batches(report_path)

    if integrity_check is not None:
        verdict = integrity_check()
        if verdict != "ok":
            problems.append(f"integrity check after the kills: {verdict}")

    store = open_store(url)  # must open cleanly after the kills
    try:
        memories = all_memories(store, MemoryQuery(session_id=session_id))
        ids = [m.id for m in memories]
        per_tag: Counter[str] = Counter(
            tag for m in memories for tag in m.tags if tag not in ("crash", "after")
        )
        partial = {tag: n for tag, n in per_tag.items() if n not in (0, batch_size)}
        if partial:
            problems.append(f"partial batches after SIGKILL: {dict(list(partial.items())[:5])}")
        for round_no, batches in reported.items():
            report.reported_batches += len(batches)
            for batch_no in batches:
                tag = f"r{round_no}-b{batch_no}"
                if per_tag.get(tag, 0) != batch_size:
                    problems.append(
                        f"batch {tag} was committed but {per_tag.get(tag, 0)} of "
                        f"{batch_size} memories are present"
                    )
        report.present_batches = sum(1 for n in per_tag.values() if n == batch_size)
        report.unreported_present = report.present_batches - report.reported_batches
        tagged = store.count_memories(MemoryQuery(tags=("crash",)))
        if tagged != len(ids):
            problems.append(f"{len(ids)} memories but {tagged} carry their tag rows")
        created = [
            c
            for c in all_changes(store)
            if c.kind == ChangeKind.MEMORY_CREATED and c.session_id == session_id
        ]
        if Counter(c.entity_id for c in created) != Counter(ids):
            problems.append(
                f"{len(created)} memory.created changes for {len(ids)} memories: change "
                "rows and the rows they describe were not committed together"
            )
        # the store still takes writes
        store.add_memories([NewMemory(agent_id=AGENT, session_id=session_id, content="after")])
    finally:
        store.close()
    return report


# --- (c) races on working-memory versions -------------------------------------------------


def race_worker(
    url: str,
    session_id: str,
    rounds: int,
    barrier: Any,
    worker: int,
    result_path: str | None = None,
    results: dict[int, list[str]] | None = None,
) -> None:
    """Each round: wait for the other racers, then all write `race` with the same
    expected version, and all create `new-<round>` with expected version 0."""
    outcomes: list[str] = []
    store = open_store(url)
    try:
        for round_no in range(rounds):
            barrier.wait(60)
            for key, expected in (("race", round_no + 1), (f"new-{round_no}", 0)):
                try:
                    store.set_working_memory(
                        session_id,
                        key,
                        {"round": round_no, "by": worker},
                        expected_version=expected,
                    )
                    outcomes.append("ok")
                except VersionConflictError:
                    outcomes.append("conflict")
                except Exception as exc:
                    outcomes.append(f"error {_describe(exc)}")
    finally:
        store.close()
        if results is not None:
            results[worker] = outcomes
        if result_path is not None:
            _write_json(result_path, outcomes)


@dataclass
class RaceReport:
    rounds: int
    racers: int
    problems_found: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.problems_found


def run_races(
    url: str, workdir: Path, *, rounds: int, racers: int = 2, use_processes: bool
) -> RaceReport:
    report = RaceReport(rounds, racers)
    problems = report.problems_found
    session_id = f"sess_race_{'p' if use_processes else 't'}"
    store = open_store(url)
    try:
        store.create_session(AGENT, session_id=session_id, ttl=None)
        store.set_working_memory(session_id, "race", {"round": -1}, expected_version=0)
    finally:
        store.close()

    outcomes: dict[int, list[str]] = {}
    if use_processes:
        barrier = SPAWN.Barrier(racers)
        paths = [str(workdir / f"race-{session_id}-{n}.json") for n in range(racers)]
        processes = [
            SPAWN.Process(
                target=race_worker,
                name=f"racer-{n}",
                args=(url, session_id, rounds, barrier, n, paths[n]),
            )
            for n in range(racers)
        ]
        for process in processes:
            process.start()
        problems.extend(_wait_all(processes, time.monotonic() + 300))
        for n, path in enumerate(paths):
            try:
                outcomes[n] = json.loads(Path(path).read_text(encoding="utf-8"))
            except OSError:
                problems.append(f"racer {n} left no result")
                return report
    else:
        thread_barrier = threading.Barrier(racers)
        threads = [
            threading.Thread(
                target=race_worker,
                args=(url, session_id, rounds, thread_barrier, n, None, outcomes),
            )
            for n in range(racers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        if len(outcomes) != racers:
            problems.append("a racing thread did not finish")
            return report

    for step in range(rounds * 2):
        round_outcomes = [outcomes[n][step] for n in range(racers)]
        errors = [o for o in round_outcomes if o.startswith("error")]
        what = ("update", "create")[step % 2]
        if errors:
            problems.append(f"round {step // 2} ({what}): {errors[0]}")
        elif round_outcomes.count("ok") != 1:
            problems.append(
                f"round {step // 2} ({what}): {round_outcomes.count('ok')} successes "
                f"among {racers} racers with the same expected version"
            )
    store = open_store(url)
    try:
        final = store.get_working_memory(session_id, "race")
        if final.version != rounds + 1:
            problems.append(f"after {rounds} rounds the version is {final.version}")
    finally:
        store.close()
    return report
