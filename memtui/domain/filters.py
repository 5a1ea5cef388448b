"""The filter grammars, shared by every front end (the TUI, the CLI, the MCP server).

Memories (the TUI's timeline, `memtui memories`):

    type:decision,entity -type:session tag:auth event:error since:2h until:30m imp:0.5 text

- `type:A,B` keeps memories of these types; `-type:A,B` drops these types.
- `tag:A,B` needs every tag; `event:A,B` keeps these event types.
- `since:`/`until:` take a relative time (30m, 2h, 7d, 1w, combinations) or ISO 8601.
- `imp:X` keeps memories with importance >= X.
- Every other word is free text, matched case-insensitively as one substring.

Sessions (the TUI's session list):

    agent:NAME status:active|expiring|expired|closed free text

- `agent:` matches part of the agent id; `status:expiring` is active with under an
  hour left. Every other word is matched, case-insensitively, as one substring of the
  id, agent, workspace and metadata.

Plain module: no UI import, so anything may use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from memtui.domain.errors import InvalidInputError
from memtui.domain.expiry import Urgency, urgency
from memtui.domain.models import MemoryQuery, Session

FILTER_KEYS = frozenset({"type", "-type", "tag", "event", "since", "until", "imp"})


@dataclass(frozen=True, slots=True)
class MemoryFilter:
    """Parsed from a filter line:
    `type:decision,entity -type:session tag:auth event:error since:2h until:1h imp:0.5 text`."""

    memory_types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_importance: float | None = None
    text: str = ""

    @classmethod
    def parse(cls, line: str, now: datetime) -> MemoryFilter:
        """InvalidInputError naming the key (`since`, `until`, `imp`) for a bad value."""
        from memtui.domain.timewindow import parse_time_bound

        types: list[str] = []
        excluded: list[str] = []
        tags: list[str] = []
        events_: list[str] = []
        since = until = None
        importance = None
        words: list[str] = []
        for token in line.split():
            key, sep, value = token.partition(":")
            key = key.lower()
            values = [v for v in value.split(",") if v]
            if not sep or key not in FILTER_KEYS:
                words.append(token)
            elif key == "type":
                types.extend(values)
            elif key == "-type":
                excluded.extend(values)
            elif key == "tag":
                tags.extend(values)
            elif key == "event":
                events_.extend(values)
            elif key == "since":
                since = parse_time_bound(value, now=now, field="since")
            elif key == "until":
                until = parse_time_bound(value, now=now, field="until")
            elif key == "imp":
                try:
                    importance = float(value)
                except ValueError as error:
                    raise InvalidInputError(
                        f"imp: {value!r} is not a number between 0 and 1",
                        field="imp",
                        value=value,
                    ) from error
        return cls(
            tuple(types),
            tuple(excluded),
            tuple(tags),
            tuple(events_),
            since,
            until,
            importance,
            " ".join(words),
        )

    def apply(self, query: MemoryQuery) -> MemoryQuery:
        """`query` with this filter's conditions (paging and scope are kept)."""
        return replace(
            query,
            memory_types=self.memory_types,
            exclude_types=self.exclude_types,
            tags=self.tags,
            event_types=self.event_types,
            since=self.since,
            until=self.until,
            min_importance=self.min_importance,
            content_contains=self.text or None,
        )

    @property
    def active(self) -> bool:
        return self != MemoryFilter()


STATUS_FILTERS = ("active", "closed", "expired", "expiring")


class SessionFilter(NamedTuple):
    """Parsed from the filter line: `agent:NAME status:active free text`."""

    agent: str | None = None
    status: str | None = None
    text: str = ""

    @classmethod
    def parse(cls, line: str) -> SessionFilter:
        agent = status = None
        words: list[str] = []
        for token in line.split():
            key, sep, value = token.partition(":")
            if sep and key.lower() == "agent":
                agent = value.lower() or None
            elif sep and key.lower() == "status":
                value = value.lower()
                if value and value not in STATUS_FILTERS:
                    raise InvalidInputError(
                        f"status {value!r} is not one of {', '.join(STATUS_FILTERS)}",
                        field="status",
                        value=value,
                    )
                status = value or None
            else:
                words.append(token.lower())
        return cls(agent, status, " ".join(words))

    def matches(self, session: Session, now: datetime) -> bool:
        if self.agent and self.agent not in session.agent_id.lower():
            return False
        if self.status:
            effective = session.effective_status(now).value
            if self.status == "expiring":
                if urgency(session, now) not in (Urgency.SOON, Urgency.VERY_SOON):
                    return False
            elif effective != self.status:
                return False
        if self.text:
            haystack = " ".join(
                (
                    session.id,
                    session.agent_id,
                    session.workspace_id or "",
                    json.dumps(session.metadata, default=str) if session.metadata else "",
                )
            ).lower()
            if self.text not in haystack:
                return False
        return True
