"""Committing working memory to long-term memory: which items become memories, which
are skipped (below the importance threshold) or deduplicated (their content is already
a memory of the agent). One algorithm for every backend: the SQL store runs it inside
its write transaction, `memtui.backend.BackendBase` on a backend's core methods."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from memtui.domain.models import CommitResult, Memory, NewMemory, Session, WorkingMemoryItem


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def commit_content(key: str, value: Any) -> str:
    """The readable line a committed working-memory item becomes."""
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return f"{key}: {compact}"


@dataclass(slots=True)
class CommitPlan:
    """What a commit will do, before anything is written."""

    to_create: list[NewMemory] = field(default_factory=list)
    created_keys: list[str] = field(default_factory=list)
    skipped_keys: list[str] = field(default_factory=list)
    deduplicated_keys: list[str] = field(default_factory=list)

    def result(self, created: Sequence[Memory]) -> CommitResult:
        return CommitResult(
            memories_created=len(created),
            memories_deduplicated=len(self.deduplicated_keys),
            memory_ids=[m.id for m in created],
            skipped_keys=self.skipped_keys,
            deduplicated_keys=self.deduplicated_keys,
            created_keys=self.created_keys,
        )


def plan_commit(
    session: Session,
    items: Sequence[WorkingMemoryItem],
    *,
    min_importance: float,
    deduplicate: bool,
    content_exists: Callable[[str, str], bool],
) -> CommitPlan:
    """Items with importance >= `min_importance` become memories (memory_type `session`,
    event_type `commit`, tagged with the key), in the order given. With `deduplicate`,
    an item is skipped when an earlier item of this commit had the same content or when
    `content_exists(content, sha256 hex of content)` says the agent already has it."""
    plan = CommitPlan()
    seen_hashes: set[str] = set()
    for item in items:
        if item.importance < min_importance:
            plan.skipped_keys.append(item.key)
            continue
        content = commit_content(item.key, item.value)
        digest = content_hash(content)
        if deduplicate and (digest in seen_hashes or content_exists(content, digest)):
            plan.deduplicated_keys.append(item.key)
            continue
        seen_hashes.add(digest)
        plan.created_keys.append(item.key)
        plan.to_create.append(
            NewMemory(
                agent_id=session.agent_id,
                content=content,
                memory_type="session",
                event_type="commit",
                session_id=session.id,
                tags=[item.key],
                importance=item.importance,
                metadata={"working_memory_key": item.key, "version": item.version},
            )
        )
    return plan
