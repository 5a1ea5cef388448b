"""Benchmarks of `memtui serve` over loopback HTTP, against a real server process.

    python bench/bench_server.py [--memories 50000] [--batch 500] [--clients 50]
                                 [--requests 2000] [--context-requests 500]
                                 [--events 200] [--db sqlite:///...]

Measures:
1. batch ingest rate: POST /api/v1/memories with {"memories": [...]} batches, from one
   client and from four clients at once;
2. p50/p99 latency of listing a session's newest memories (GET
   /sessions/{id}/memories?limit=50) and of building its context (POST
   /sessions/{id}/context, max_tokens 2000), each with N concurrent clients;
3. event-stream delay: from a write being sent to an SSE client seeing its event.

Everything is bounded by request counts and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.live_server import LiveServer, start_live_server  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def batch_payload(agent: str, session_id: str, start: int, size: int) -> dict[str, Any]:
    kinds = ("episodic", "episodic", "episodic", "decision", "entity", "session")
    return {
        "memories": [
            {
                "agent_id": agent,
                "session_id": session_id,
                "memory_type": kinds[i % len(kinds)],
                "event_type": "error" if i % 17 == 0 else "tool_call",
                "content": f"Step {i}: fetched https://example.com/page/{i} and extracted "
                f"{i % 13} product prices for the comparison table",
                "tags": ["bench", f"t{i % 5}"],
                "importance": (i % 10) / 10,
                "metadata": {"step": i},
            }
            for i in range(start, start + size)
        ]
    }


def ingest(server: LiveServer, session_id: str, total: int, batch: int, clients: int) -> float:
    """Returns memories per second."""
    per_client = total // clients
    errors: list[str] = []

    def run(worker: int) -> None:
        with server.client(timeout=120.0) as api:
            done = 0
            while done < per_client:
                size = min(batch, per_client - done)
                response = api.post(
                    "/memories",
                    json=batch_payload(
                        f"bench_{worker}", session_id, worker * per_client + done, size
                    ),
                )
                if response.status_code != 201:
                    errors.append(response.text[:200])
                    return
                done += size

    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"ingest failed: {errors[0]}")
    return per_client * clients / elapsed


async def concurrent_latency(
    server: LiveServer,
    clients: int,
    requests: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> tuple[list[float], float]:
    """`requests` requests spread over `clients` concurrent connections; returns the
    latencies and the overall throughput (requests/s)."""
    latencies: list[float] = []
    per_client = max(1, requests // clients)

    async def client_task() -> None:
        async with httpx.AsyncClient(
            base_url=server.api_url, headers=server.headers, timeout=120.0
        ) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")

    started = time.perf_counter()
    await asyncio.gather(*(client_task() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def event_delay(server: LiveServer, writes: int) -> list[float]:
    """Delay from sending a POST to the SSE client receiving its event."""
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    ready = threading.Event()
    done = threading.Event()

    def follow() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(30.0)) as client,
            client.stream("GET", f"{server.api_url}/events", headers=server.headers) as response,
        ):
            ready.set()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    change = json.loads(line[6:])
                    content = (change.get("data") or {}).get("content", "")
                    if content.startswith("evt-"):
                        received[content] = time.perf_counter()
                        if len(received) == writes:
                            done.set()
                            return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    ready.wait(10)
    time.sleep(0.3)
    with server.client(timeout=30.0) as api:
        api.post("/agents", json={"name": "bench_events"})
        for i in range(writes):
            content = f"evt-{i}"
            # From the moment the write is sent: the event may arrive before the
            # response does, and the commit happens somewhere inside the request.
            sent[content] = time.perf_counter()
            response = api.post("/memories", json={"agent_id": "bench_events", "content": content})
            assert response.status_code == 201
            time.sleep(0.01)
    done.wait(30)
    return [received[k] - sent[k] for k in sent if k in received]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--memories", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--context-requests", type=int, default=500)
    parser.add_argument("--context-session-memories", type=int, default=2000)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="memtui-bench-server-"))
    db_url = args.db or f"sqlite:///{workdir / 'bench.db'}"
    print(f"memtui serve benchmark on {db_url}")
    with start_live_server(db_url) as server:
        with server.client() as api:
            big = api.post("/sessions", json={"agent_id": "bench_0", "ttl_seconds": None}).json()
            ctx = api.post("/sessions", json={"agent_id": "bench_ctx", "ttl_seconds": None}).json()

        rate_1 = ingest(server, big["id"], args.memories, args.batch, clients=1)
        print(f"ingest, 1 client, batches of {args.batch}: {rate_1:,.0f} memories/s")
        rate_4 = ingest(server, big["id"], args.memories, args.batch, clients=4)
        print(f"ingest, 4 clients, batches of {args.batch}: {rate_4:,.0f} memories/s")
        ingest(server, ctx["id"], args.context_session_memories, args.batch, clients=1)

        single, _ = asyncio.run(
            concurrent_latency(server, 1, 200, "GET", f"/sessions/{big['id']}/memories?limit=50")
        )
        print(
            f"newest 50, 1 client (reference), {len(single)} requests: "
            f"p50 {ms(statistics.median(single))}, p99 {ms(percentile(single, 0.99))}"
        )
        listing, listing_rps = asyncio.run(
            concurrent_latency(
                server,
                args.clients,
                args.requests,
                "GET",
                f"/sessions/{big['id']}/memories?limit=50",
            )
        )
        print(
            f"newest 50 of a {2 * args.memories:,}-memory session, {args.clients} clients, "
            f"{len(listing)} requests: p50 {ms(statistics.median(listing))}, "
            f"p99 {ms(percentile(listing, 0.99))}, {listing_rps:,.0f} req/s"
        )
        context, context_rps = asyncio.run(
            concurrent_latency(
                server,
                args.clients,
                args.context_requests,
                "POST",
                f"/sessions/{ctx['id']}/context",
                {"max_tokens": 2000},
            )
        )
        print(
            f"context (max_tokens 2000) of a {args.context_session_memories:,}-memory "
            f"session, {args.clients} clients, {len(context)} requests: "
            f"p50 {ms(statistics.median(context))}, p99 {ms(percentile(context, 0.99))}, "
            f"{context_rps:,.1f} req/s"
        )
        delays = event_delay(server, args.events)
        print(
            f"event stream delay over {len(delays)}/{args.events} writes: "
            f"median {ms(statistics.median(delays))}, p99 {ms(percentile(delays, 0.99))}, "
            f"max {ms(max(delays))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
