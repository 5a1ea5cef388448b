"""`memtui export` and `memtui import` on a large store: time and peak RSS.

    python bench/bench_transfer.py                  # 1M memories, SQLite (~15-25 min)
    python bench/bench_transfer.py --memories 100000
    python bench/bench_transfer.py --quick          # 20k, a smoke run

Generates a store with bench_scale's generator (20 agents, one session per 400
memories), then runs each command as its own process, as a user would, and reads that
process's peak RSS from the kernel (`resource.getrusage` in the child itself):
1. export the store to a file;
2. import the file into an empty store;
3. import it again (idempotent: everything is "already there");
4. export the copy and compare the bytes with the first export.
`uptime` is printed beside the figures: on a busy machine the times stretch, the RSS
does not.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_scale import generate_million  # noqa: E402

# Runs memtui's CLI in this process and reports the process's own peak RSS (KiB).
RUN_AND_MEASURE = (
    "import resource, sys\n"
    "from memtui.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(args: list[str], *, stdout_path: Path | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one memtui process."""
    began = time.perf_counter()
    with open(stdout_path or os.devnull, "wb") as out:
        result = subprocess.run(
            [sys.executable, "-c", RUN_AND_MEASURE, *args],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
    seconds = time.perf_counter() - began
    stderr = result.stderr.decode()
    if result.returncode != 0:
        raise SystemExit(f"memtui {' '.join(args)} failed: {stderr}")
    peak_kb = next(
        int(line.split()[1]) for line in stderr.splitlines() if line.startswith("PEAK_RSS_KB")
    )
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memories", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20k memories")
    options = parser.parse_args()
    total = 20_000 if options.quick else options.memories

    with tempfile.TemporaryDirectory(prefix="memtui-bench-transfer-") as workdir:
        work = Path(workdir)
        source = f"sqlite:///{work / 'source.db'}"
        began = time.perf_counter()
        generate_million(
            source, total, sessions=max(2, total // 400), big_session_size=min(10_000, total // 2)
        )
        print(f"generated {total:,} memories in {time.perf_counter() - began:.0f} s")
        print(f"load before: {load()}")
        dump = work / "store.jsonl"

        figures: list[tuple[str, float, float]] = []
        seconds, rss = run(["--db", source, "export"], stdout_path=dump)
        figures.append(("export", seconds, rss))
        size_mb = dump.stat().st_size / 1e6
        lines = sum(1 for _ in dump.open("rb"))

        target = f"sqlite:///{work / 'target.db'}"
        seconds, rss = run(["--db", target, "import", str(dump)])
        figures.append(("import into an empty store", seconds, rss))
        seconds, rss = run(["--db", target, "import", str(dump)])
        figures.append(("import again (adds nothing)", seconds, rss))

        again = work / "again.jsonl"
        seconds, rss = run(["--db", target, "export"], stdout_path=again)
        figures.append(("export the copy", seconds, rss))
        same = filecmp.cmp(dump, again, shallow=False)

        print(f"\n{total:,} memories, {lines:,} lines, {size_mb:,.0f} MB of JSON Lines (SQLite)")
        print(f"{'step':32} {'time':>9} {'rate':>14} {'peak RSS':>10}")
        for name, seconds, rss in figures:
            rate = f"{lines / seconds:,.0f} lines/s"
            print(f"{name:32} {seconds:8.1f}s {rate:>14} {rss:8.0f} MB")
        print(f"round trip byte-identical: {same}")
        print(f"load after: {load()}")


if __name__ == "__main__":
    main()
