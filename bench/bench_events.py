"""What open event streams cost a real `memtui serve`, and how fast writes reach them.

    python bench/bench_events.py [--streams 100] [--writes 60] [--idle-seconds 10]
                                 [--gets 300] [--backend sqlite|postgresql|both]
                                 [--baseline-src /work/wt/base]

For each backend (SQLite file; a throwaway PostgreSQL database at 127.0.0.1:5432):
1. the server's CPU (psutil on its PID, % of one core) over an idle window, with no
   stream open and then with N idle streams open;
2. GET /api/v1/sessions?limit=20 latency (p50, p95), one client in sequence, without
   and with the N streams open;
3. write → stream delivery: one POST /memories at a time; for each, the time from
   sending it until the first stream and until the last of the N streams has its event
   (p50, p95 over the writes); this includes the write itself, whose own latency (until
   its response) is shown beside it.

`--baseline-src DIR` runs the same measurements against the checkout in DIR (with its
own DIR/.venv), for before/after figures. Everything runs on this machine: the bench's
own client shares the cores with the server, so state `uptime` next to any figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers.live_server import free_port  # noqa: E402
from tests.helpers.postgres import throwaway_database  # noqa: E402

STARTUP_SECONDS = 30.0
DELIVERY_TIMEOUT_SECONDS = 10.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class Server:
    """`memtui serve` from a source tree (this one, or a baseline checkout)."""

    def __init__(self, src: Path, db_url: str, log_dir: Path) -> None:
        self.src = src
        self.python = str(src / ".venv" / "bin" / "python") if src != REPO else sys.executable
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"serve-{self.port}.log"
        self.env = {**os.environ, "PYTHONPATH": str(src), "PYTHONUNBUFFERED": "1"}
        self.env.pop("MEMTUI_CLOCK_FILE", None)
        self.key = self._create_key()
        self.process: subprocess.Popen[bytes] | None = None

    def _create_key(self) -> str:
        result = subprocess.run(
            [self.python, "-m", "memtui", "keys", "--db", self.db_url, "create", "--name", "b"],
            capture_output=True,
            text=True,
            cwd=self.src,
            env=self.env,
            timeout=60,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    def start(self) -> Server:
        command = [self.python, "-m", "memtui", "serve", "--db", self.db_url]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.src, env=self.env
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"memtui serve exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("memtui serve did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_percent(pid: int, seconds: float) -> float:
    process = psutil.Process(pid)
    process.cpu_percent(None)
    time.sleep(seconds)
    return process.cpu_percent(None)


async def get_latencies(client: httpx.AsyncClient, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get("/sessions", params={"limit": 20})
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


class Streams:
    """N SSE readers that note when each `bench-<i>` memory reaches them."""

    def __init__(self, server: Server, count: int) -> None:
        self.server = server
        self.count = count
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.arrivals: dict[int, list[float]] = {}
        self.complete: dict[int, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, read=None),
            limits=httpx.Limits(max_connections=count + 5, max_keepalive_connections=0),
            headers={"x-api-key": server.key},
        )

    def expect(self, index: int) -> asyncio.Event:
        self.arrivals[index] = []
        self.complete[index] = asyncio.Event()
        return self.complete[index]

    async def _read(self) -> None:
        url = f"{self.server.url}/api/v1/events"
        async with self.client.stream("GET", url) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    self.connected += 1
                    if self.connected == self.count:
                        self.all_connected.set()
                elif line.startswith("data:") and '"bench-' in line:
                    at = time.perf_counter()
                    content = json.loads(line[5:])["data"]["content"]
                    index = int(content.removeprefix("bench-"))
                    arrivals = self.arrivals.get(index)
                    if arrivals is not None:
                        arrivals.append(at)
                        if len(arrivals) == self.count:
                            self.complete[index].set()

    async def open(self) -> None:
        self.tasks = [asyncio.create_task(self._read()) for _ in range(self.count)]
        await asyncio.wait_for(self.all_connected.wait(), 60)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()


async def measure(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    pid = server.process.pid  # type: ignore[union-attr]
    result: dict[str, Any] = {}
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"x-api-key": server.key}, timeout=30.0
    ) as api:
        (await api.post("/agents", json={"name": "bench"})).raise_for_status()
        for i in range(20):
            await api.post("/sessions", json={"agent_id": "bench", "metadata": {"n": i}})
        await get_latencies(api, 20)  # warm up
        await asyncio.sleep(1.0)
        result["cpu_idle_no_streams"] = await asyncio.to_thread(cpu_percent, pid, args.idle_seconds)
        latencies = await get_latencies(api, args.gets)
        result["get_no_streams"] = (percentile(latencies, 0.5), percentile(latencies, 0.95))

        streams = Streams(server, args.streams)
        await streams.open()
        try:
            await asyncio.sleep(1.0)
            # The readers only wait, so sampling from a thread leaves the loop idle.
            result["cpu_idle_streams"] = await asyncio.to_thread(
                cpu_percent, pid, args.idle_seconds
            )
            latencies = await get_latencies(api, args.gets)
            result["get_streams"] = (percentile(latencies, 0.5), percentile(latencies, 0.95))

            first: list[float] = []
            last: list[float] = []
            missed = 0
            posts: list[float] = []
            for index in range(args.writes):
                done = streams.expect(index)
                sent = time.perf_counter()
                response = await api.post(
                    "/memories", json={"agent_id": "bench", "content": f"bench-{index}"}
                )
                response.raise_for_status()
                posts.append(time.perf_counter() - sent)
                try:
                    await asyncio.wait_for(done.wait(), DELIVERY_TIMEOUT_SECONDS)
                except TimeoutError:
                    missed += 1
                arrivals = streams.arrivals[index]
                if arrivals:
                    first.append(min(arrivals) - sent)
                    last.append(max(arrivals) - sent)
                await asyncio.sleep(0.05)
            result["delivery_first"] = (percentile(first, 0.5), percentile(first, 0.95))
            result["delivery_last"] = (percentile(last, 0.5), percentile(last, 0.95))
            result["missed"] = missed
            result["post"] = (percentile(posts, 0.5), percentile(posts, 0.95))
        finally:
            await streams.close()
    return result


def run(src: Path, backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with ExitStack() as stack:
        if backend == "sqlite":
            db_url = f"sqlite:///{work / f'bench-{src.name}-{time.time_ns()}.db'}"
        else:
            db_url = stack.enter_context(throwaway_database("memtui_bench_events"))
        server = Server(src, db_url, work).start()
        try:
            return asyncio.run(measure(server, args))
        finally:
            server.stop()


def report(label: str, r: dict[str, Any], streams: int) -> None:
    print(f"  {label}")
    print(
        f"    server CPU idle: {r['cpu_idle_no_streams']:.1f}% of a core without streams, "
        f"{r['cpu_idle_streams']:.1f}% with {streams} idle streams"
    )
    print(
        f"    GET /sessions p50/p95: {ms(r['get_no_streams'][0])} / {ms(r['get_no_streams'][1])}"
        f" without streams, {ms(r['get_streams'][0])} / {ms(r['get_streams'][1])} with them"
    )
    print(
        f"    write -> stream p50/p95: first stream {ms(r['delivery_first'][0])} / "
        f"{ms(r['delivery_first'][1])}, last of {streams} {ms(r['delivery_last'][0])} / "
        f"{ms(r['delivery_last'][1])}; writes not seen by every stream: {r['missed']}"
    )
    print(
        f"    (the POST itself, until its response: p50/p95 {ms(r['post'][0])} / "
        f"{ms(r['post'][1])})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--gets", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--baseline-src", type=Path, help="also run a checkout (with its own .venv)"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    sources = [("this checkout", REPO)]
    if args.baseline_src is not None:
        sources.insert(0, (f"baseline {args.baseline_src}", args.baseline_src.resolve()))
    print(f"uptime: {os.popen('uptime').read().strip()}")
    with tempfile.TemporaryDirectory(prefix="memtui-bench-events-") as tmp:
        for backend in backends:
            print(f"{backend}:")
            for label, src in sources:
                report(label, run(src, backend, args, Path(tmp)), args.streams)
    print(f"uptime: {os.popen('uptime').read().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
