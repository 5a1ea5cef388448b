"""memtui's objects in MemoryLayer's shapes, and its error shape."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from typing import Any

from memtui.domain.dialects.memorylayer import DEFAULT_WORKSPACE, reported_type
from memtui.domain.models import Briefing, Memory, Session, WorkingMemoryItem, dt_to_json

TENANT = "_default"
CONTEXT = "_default"
# MemoryLayer sessions always expire; a memtui session that never does is reported
# with the latest instant RFC 3339 allows.
NEVER = "9999-12-31T23:59:59Z"

ERROR_CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "authorization_denied",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}


def error_body(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """memtui's `{"error": message, field?, ...}` as MemoryLayer's `{error, message,
    details}` (`error` a code, `details` the rest); `detail` repeats the message."""
    message = str(body.get("error", ""))
    details = {k: v for k, v in body.items() if k != "error"}
    return {
        "error": ERROR_CODES.get(status, "error"),
        "message": message,
        "details": details or None,
        "detail": message,
    }


def workspace_of_session(session: Session) -> str:
    """A workspace is an agent: a session's workspace is its agent."""
    return session.agent_id or DEFAULT_WORKSPACE


def session_json(session: Session, now: datetime) -> dict[str, Any]:
    return {
        "id": session.id,
        "workspace_id": workspace_of_session(session),
        "tenant_id": TENANT,
        "context_id": CONTEXT,
        "user_id": None,
        "metadata": session.metadata,
        "auto_commit": False,
        "committed_at": None,
        "expires_at": dt_to_json(session.expires_at) or NEVER,
        "created_at": dt_to_json(session.created_at),
        # memtui's own, for a reader that wants them
        "agent_id": session.agent_id,
        "status": session.effective_status(now).value,
    }


def memory_json(memory: Memory, *, relevance: float | None = None) -> dict[str, Any]:
    kind, subtype = reported_type(memory.memory_type)
    content_hash = hashlib.sha256(memory.content.encode("utf-8", "surrogatepass")).hexdigest()
    created = dt_to_json(memory.time)
    data = {
        "id": memory.id,
        "logical_key": memory.dedup_key,
        "workspace_id": memory.agent_id,
        "tenant_id": TENANT,
        "context_id": CONTEXT,
        "user_id": None,
        "content": memory.content,
        "content_hash": content_hash,
        "type": kind,
        "subtype": subtype,
        "importance": 0.5 if memory.importance is None else memory.importance,
        "tags": list(memory.tags),
        "metadata": memory.metadata,
        "refinement_metadata": {},
        "session_id": memory.session_id,
        "access_count": 0,
        "last_accessed_at": None,
        "decay_factor": 1.0,
        "status": "active",
        "pinned": False,
        "revision": 1,
        "etag": content_hash[:16],
        "created_at": created,
        "updated_at": created,
        "deleted_at": None,
        # memtui's own
        "memory_type": memory.memory_type,
        "agent_id": memory.agent_id,
    }
    if relevance is not None:
        data["relevance_score"] = relevance
    return data


def working_memory_json(item: WorkingMemoryItem) -> dict[str, Any]:
    updated = dt_to_json(item.updated_at)
    return {
        "key": item.key,
        "value": item.value,
        "ttl_seconds": None,
        "created_at": updated,  # memtui keeps when a key last changed, not when it began
        "updated_at": updated,
        "version": item.version,
        "session_id": item.session_id,
    }


def briefing_json(
    briefing: Briefing, *, workspace: str | None, memory_count: int
) -> dict[str, Any]:
    """memtui's briefing in MemoryLayer's shape: recent activity per session (as the
    client's SessionActivity), open threads from snapshots' open tasks (as its
    OpenThread), and the recent memories themselves."""
    by_session: dict[str | None, list[Memory]] = defaultdict(list)
    for memory in briefing.recent_activity:
        by_session[memory.session_id].append(memory)
    activity = []
    for session_id, memories in by_session.items():
        newest = max(memories, key=lambda m: m.time)
        decisions = [m.content for m in memories if m.memory_type == "decision"]
        where = f"session {session_id}" if session_id else "no session"
        activity.append(
            {
                "timestamp": dt_to_json(newest.time),
                "summary": f"{len(memories)} memories in {where}; latest: {newest.content[:200]}",
                "memories_created": len(memories),
                "key_decisions": decisions,
                "session_id": session_id,
            }
        )
    activity.sort(key=lambda a: a["timestamp"], reverse=True)
    threads = [
        {
            "topic": thread.task,
            "status": "open",
            "last_activity": dt_to_json(thread.created_at),
            "key_memories": [],
            "session_id": thread.session_id,
            "snapshot_id": thread.snapshot_id,
            "workspace_id": thread.agent_id,
        }
        for thread in briefing.open_threads
    ]
    lookback_minutes = int(briefing.lookback.total_seconds() // 60)
    summary = {
        "workspace_id": workspace,
        "total_memories": memory_count,
        "recent_memories": len(briefing.recent_activity),
        "active_sessions": len(briefing.active_sessions),
        "expiring_soon": len(briefing.expiring_soon),
        "open_threads": len(threads),
        "lookback_minutes": lookback_minutes,
    }
    return {
        "workspace_summary": summary,
        "recent_activity": activity,
        "open_threads": threads,
        "contradictions_detected": [],
        "memories": [memory_json(m) for m in briefing.recent_activity],
        # TypeScript's client reads this (seed 002's example prints it)
        "recent_activity_summary": (
            f"{len(briefing.recent_activity)} memories in the last {lookback_minutes} minutes "
            f"across {len(activity)} sessions; {len(threads)} open threads"
        ),
    }
