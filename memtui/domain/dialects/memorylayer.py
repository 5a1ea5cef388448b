"""MemoryLayer's (seed 002) rules over memtui's model.

- A MemoryLayer **workspace** is a memtui **agent** (and the session's `workspace_id`):
  the TUI lists sessions by agent, so a workspace's sessions sit under its name.
- MemoryLayer has four memory types; memtui stores any type. A memtui type outside the
  four is reported as the nearest of them, with memtui's own type as the `subtype`.
- **touch** extends a session to now + N and never shortens it (the real server sets
  now + N, which can shorten).
- **recall** ranks by text relevance: the share of the query's words a memory holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WORKSPACE = "_default"  # as MemoryLayer names the workspace of unscoped calls
DEFAULT_TTL_SECONDS = 3600
MIN_TTL_SECONDS = 60
MEMORYLAYER_TYPES: tuple[str, ...] = ("episodic", "semantic", "procedural", "working")
DEFAULT_TYPE = "episodic"

# memtui's (Memtrace's) own types, reported as the nearest MemoryLayer type.
_NEAREST = {"decision": "semantic", "entity": "semantic", "session": "working"}


def reported_type(memtui_type: str) -> tuple[str, str | None]:
    """(MemoryLayer type, subtype) for a memtui memory type: the four pass as they are;
    any other is the nearest of the four, subtype = memtui's type."""
    if memtui_type in MEMORYLAYER_TYPES:
        return memtui_type, None
    return _NEAREST.get(memtui_type, "semantic"), memtui_type


def memtui_types_for(memorylayer_type: str, known: Iterable[str]) -> tuple[str, ...]:
    """The memtui types that are reported as `memorylayer_type` (for a type filter)."""
    return tuple(sorted({t for t in known if reported_type(t)[0] == memorylayer_type}))


def touch_extension(
    expires_at: datetime | None, now: datetime, extend_seconds: int
) -> timedelta | None:
    """How much to add to a session's expiry so that it ends no sooner than now + N;
    None when nothing is to be added (it already ends later, or never)."""
    if expires_at is None:
        return None
    target = now + timedelta(seconds=extend_seconds)
    if target <= expires_at:
        return None
    return target - expires_at


def requested_keys(key: str, existing: Iterable[str]) -> list[str]:
    """The working-memory keys `?key=` asks for. memorylayer-client joins several keys
    with commas; a key that itself holds a comma is taken whole when it exists."""
    present = set(existing)
    if key in present or "," not in key:
        return [key]
    return [part for part in key.split(",") if part]


_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Ranked:
    index: int  # position in the candidates given
    score: float  # 0 < score <= 1


def rank_by_relevance(query: str, texts: Sequence[str]) -> list[Ranked]:
    """Texts holding at least one of the query's words, best first: the share of the
    query's distinct words present, then how often they occur (a tie-breaker worth less
    than one word), then the order given (callers pass newest first)."""
    wanted = set(words(query))
    if not wanted:
        return []
    ranked: list[tuple[float, float, int]] = []
    for index, text in enumerate(texts):
        found = words(text)
        hits = wanted.intersection(found)
        if not hits:
            continue
        share = len(hits) / len(wanted)
        frequency = sum(1 for w in found if w in wanted) / (len(found) + 1)
        ranked.append((share, frequency, index))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [Ranked(index=i, score=round(share, 4)) for share, _freq, i in ranked]
