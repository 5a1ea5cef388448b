"""Memories mirroring seed 000's context example, plus an error, a session note with
line breaks and a custom type. Shared by the golden and CLI tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memtui.domain.models import Memory

SESSION_ID = "sess_abc"
AGENT_ID = "agent_researcher"
BASE = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)

# (id, minutes after BASE, memory_type, event_type, importance, content)
SEED_ROWS: list[tuple[str, int, str, str, float | None, str]] = [
    (
        "mem_e1",
        0,
        "episodic",
        "general",
        0.6,
        "Crawled https://example.com — found 3 product pages",
    ),
    ("mem_e2", 5, "episodic", "general", 0.5, "Extracted pricing data from 3 pages"),
    ("mem_e3", 10, "episodic", "general", None, "Stored data in database"),
    (
        "mem_d1",
        7,
        "decision",
        "general",
        0.9,
        "Decided to focus on product category A based on higher engagement",
    ),
    ("mem_d2", 12, "decision", "general", 0.7, "Chose to skip category B due to low quality data"),
    ("mem_n1", 2, "entity", "general", 0.4, "Product X: High engagement, trending topic"),
    ("mem_n2", 3, "entity", "general", 0.4, "Product Y: Low stock, price increased 20%"),
    ("mem_n3", 4, "entity", "general", 0.3, "Product Z: New release, positive reviews"),
    (
        "mem_s1",
        15,
        "session",
        "note",
        0.5,
        "Research plan:\n1. crawl\n  2. extract\r\n\r\n3. decide\n",
    ),
    (
        "mem_r1",
        8,
        "episodic",
        "error",
        0.8,
        "Timeout fetching https://example.com/pricing after 30s",
    ),
    (
        "mem_t1",
        9,
        "tool_call",
        "general",
        0.2,
        'search_web(query="product reviews") returned 12 results',
    ),
]


def seed_memories() -> list[Memory]:
    return [
        Memory(
            id=memory_id,
            time=BASE + timedelta(minutes=minutes),
            agent_id=AGENT_ID,
            session_id=SESSION_ID,
            memory_type=memory_type,
            event_type=event_type,
            importance=importance,
            content=content,
        )
        for memory_id, minutes, memory_type, event_type, importance, content in SEED_ROWS
    ]
