"""The MCP tools: for each, its name, a description written for the agent that calls it,
its arguments (a pydantic model, published as the tool's JSON Schema and used to check
every call), and its implementation over the Backend protocol.

Nothing here imports the MCP SDK: `memtui.mcp.server` serves these specs. Each `run`
is synchronous (the Backend is) and runs in a worker thread with the caller's actor.

Names and arguments follow seed 002 (MemoryLayer's MCP session tools) where it has them:
`memory_session_start {workspace_id?, ttl_seconds?}`, `memory_session_status {}`,
`memory_session_commit {importance_threshold?}`, `memory_session_end {commit?}`,
`memory_remember {content, type?, importance?, tags?}`. Tools that work on a session
also take an optional `session_id`; without it they use the connection's current session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from memtui.domain.errors import InvalidInputError, VersionConflictError
from memtui.domain.models import (
    DEFAULT_SESSION_TTL,
    Capability,
    ContextRequest,
    Memory,
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    Snapshot,
    WorkingMemoryItem,
)
from memtui.domain.views import session_view
from memtui.search import search_memories

if TYPE_CHECKING:
    from memtui.backend import Backend

# Limits the store also enforces; checked here first so the error names the argument.
MAX_ID = 200
MAX_TTL_SECONDS = 9998 * 3600
MAX_EXTEND_HOURS = 9998
MAX_RECALL = 100
MAX_CONTEXT_TOKENS = 1_000_000
DEFAULT_LOOKBACK_HOURS = 24


class ToolArgumentError(Exception):
    """A call's argument is wrong in a way the schema cannot say (no current session,
    a stale version…). `argument` is the argument's name as the agent wrote it."""

    def __init__(self, argument: str, message: str, *, data: dict[str, Any] | None = None):
        super().__init__(message)
        self.argument = argument
        self.message = message
        self.data = data or {}


@dataclass(slots=True)
class ConnectionState:
    """What the server remembers for one MCP connection."""

    session_id: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Everything a tool's `run` may use. `state` is None where the transport has no
    connection to remember anything on (MCP 2026-07-28 over HTTP is stateless)."""

    backend: Backend
    state: ConnectionState | None
    client_name: str
    agent: str | None = None  # `memtui mcp --agent`; default: the client's name

    def agent_id(self) -> str:
        """The agent memories are written for: the current session's agent, else the
        server's --agent, else the client's name."""
        if self.state is not None and self.state.agent_id:
            return self.state.agent_id
        return self.agent or self.client_name or "mcp"

    def session_id(self, given: str | None) -> str:
        if given:
            return given
        if self.state is not None and self.state.session_id:
            return self.state.session_id
        if self.state is None:
            raise ToolArgumentError(
                "session_id",
                "session_id is required here: this connection keeps no state (MCP over "
                "stateless HTTP), so pass the session_id that memory_session_start returned",
            )
        raise ToolArgumentError(
            "session_id",
            "no current session on this connection: call memory_session_start first, "
            "or pass session_id",
        )


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """`data` goes out as the structured result and as JSON text; `text`, when given,
    is sent as the text content instead (the context markdown, exactly)."""

    data: dict[str, Any]
    text: list[str] | None = None

    def texts(self) -> list[str]:
        if self.text is not None:
            return self.text
        return [json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))]


class Arguments(BaseModel):
    """Base of every tool's arguments: unknown arguments are refused, by name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    arguments: type[Arguments]
    run: Callable[[ToolContext, Any], ToolOutput]
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    requires: tuple[str, ...] = ()
    # Backend field names (InvalidInputError.field) -> this tool's argument names.
    fields: dict[str, str] = field(default_factory=dict)

    def input_schema(self) -> dict[str, Any]:
        return _clean_schema(self.arguments.model_json_schema())


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's schema without the generated `title`s (noise for an agent)."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: clean(value)
                for key, value in node.items()
                if not (key == "title" and isinstance(value, str))
            }
        if isinstance(node, list):
            return [clean(item) for item in node]
        return node

    cleaned = clean(schema)
    cleaned.setdefault("properties", {})
    return cleaned


# --- shared argument types --------------------------------------------------------------

SessionIdArg = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_ID,
        description="The session to act on. Default: this connection's current session "
        "(the one memory_session_start began).",
    ),
]
TextList = Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=1000)]


# --- views ------------------------------------------------------------------------------


def memory_view(memory: Memory) -> dict[str, Any]:
    """A memory as an agent needs it (no org id, empty fields left out)."""
    data: dict[str, Any] = {
        "id": memory.id,
        "time": memory.to_json()["time"],
        "memory_type": memory.memory_type,
        "event_type": memory.event_type,
        "content": memory.content,
        "tags": list(memory.tags),
        "importance": memory.importance,
        "session_id": memory.session_id,
        "agent_id": memory.agent_id,
    }
    if memory.metadata:
        data["metadata"] = memory.metadata
    return data


def _item_view(item: WorkingMemoryItem) -> dict[str, Any]:
    return item.to_json()


def _snapshot_view(snapshot: Snapshot) -> dict[str, Any]:
    return snapshot.to_json()


# --- session tools ----------------------------------------------------------------------


class SessionStartArgs(Arguments):
    workspace_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_ID,
            description="A label for the project or workspace this session works in "
            "(kept on the session; memtui shows it). Optional.",
        ),
    ] = None
    ttl_seconds: Annotated[
        int | None,
        Field(
            ge=60,
            le=MAX_TTL_SECONDS,
            description="How long the session lives before it expires, in seconds "
            "(at least 60). Default: 21600 (6 hours). Extend it later with memory_extend.",
        ),
    ] = None


def _session_start(ctx: ToolContext, args: SessionStartArgs) -> ToolOutput:
    backend = ctx.backend
    agent = ctx.agent or ctx.client_name or "mcp"
    ttl = DEFAULT_SESSION_TTL if args.ttl_seconds is None else timedelta(seconds=args.ttl_seconds)
    session = backend.create_session(agent, workspace_id=args.workspace_id, ttl=ttl)
    data: dict[str, Any] = {"session": session_view(session, backend.now())}
    if ctx.state is not None:
        ctx.state.session_id = session.id
        ctx.state.agent_id = session.agent_id
        data["current"] = True
    else:
        data["current"] = False
        data["note"] = (
            "This connection keeps no state (MCP over stateless HTTP): pass this "
            "session_id to the tools that take one."
        )
    return ToolOutput(data)


class SessionStatusArgs(Arguments):
    session_id: SessionIdArg = None


def _session_status(ctx: ToolContext, args: SessionStatusArgs) -> ToolOutput:
    backend = ctx.backend
    if not args.session_id and (ctx.state is None or not ctx.state.session_id):
        message = (
            "No current session on this connection. Start one with memory_session_start."
            if ctx.state is not None
            else "This connection keeps no state (MCP over stateless HTTP), so it has no "
            "current session: pass session_id."
        )
        return ToolOutput({"session": None, "message": message})
    session_id = ctx.session_id(args.session_id)
    session = backend.get_session(session_id)
    capabilities = backend.capabilities()
    data: dict[str, Any] = {
        "session": session_view(session, backend.now()),
        "memory_count": backend.count_memories(MemoryQuery(session_id=session.id)),
    }
    if Capability.WORKING_MEMORY in capabilities:
        data["working_memory_keys"] = [item.key for item in backend.list_working_memory(session.id)]
    if Capability.SNAPSHOTS in capabilities:
        data["snapshot_count"] = len(backend.list_snapshots(session.id))
    return ToolOutput(data)


class SessionCommitArgs(Arguments):
    importance_threshold: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="Only working-memory keys with importance at or above this "
            "become long-term memories. Default 0.5.",
        ),
    ] = 0.5
    session_id: SessionIdArg = None


def _session_commit(ctx: ToolContext, args: SessionCommitArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    result = ctx.backend.commit_working_memory(
        session_id, min_importance=args.importance_threshold, deduplicate=True
    )
    return ToolOutput({"session_id": session_id, **result.to_json()})


class SessionEndArgs(Arguments):
    commit: Annotated[
        bool,
        Field(
            description="First commit working memory (keys with importance >= 0.5) to "
            "long-term memory, as memory_session_commit does. Default true.",
        ),
    ] = True
    session_id: SessionIdArg = None


def _session_end(ctx: ToolContext, args: SessionEndArgs) -> ToolOutput:
    backend = ctx.backend
    session_id = ctx.session_id(args.session_id)
    committed = None
    if args.commit:
        if Capability.COMMIT in backend.capabilities():
            committed = backend.commit_working_memory(session_id).to_json()
        else:
            raise ToolArgumentError(
                "commit",
                "this backend cannot commit working memory: call again with commit false",
            )
    session = backend.close_session(session_id)
    if ctx.state is not None and ctx.state.session_id == session_id:
        ctx.state.session_id = None
    return ToolOutput({"session": session_view(session, backend.now()), "commit": committed})


# --- memories ---------------------------------------------------------------------------


class RememberArgs(Arguments):
    content: Annotated[
        str,
        Field(
            min_length=1,
            description="What to remember, in one self-contained statement: a decision "
            "and its reason, a fact learned, an error and its fix.",
        ),
    ]
    type: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
            description="The memory's type: 'episodic' (something that happened; the "
            "default), 'decision' (a choice and why), 'entity' (a fact about a thing or "
            "person), 'session' (about this session's work), or any other short word.",
        ),
    ] = None
    importance: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="0 to 1; higher is kept first when a context must be cut to fit "
            "a token budget. Leave it out for ordinary memories (counts as 0.5).",
        ),
    ] = None
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
        Field(max_length=100, description="Short labels to find it by, e.g. ['auth', 'bug']."),
    ] = None
    session_id: SessionIdArg = None


def _remember(ctx: ToolContext, args: RememberArgs) -> ToolOutput:
    session_id = args.session_id or (ctx.state.session_id if ctx.state else None)
    agent = ctx.agent_id()
    if args.session_id:
        agent = ctx.backend.get_session(args.session_id).agent_id
    new = NewMemory(
        agent_id=agent,
        content=args.content,
        session_id=session_id,
        tags=list(args.tags or []),
        importance=args.importance,
        **({"memory_type": args.type} if args.type else {}),
    )
    (memory,) = ctx.backend.add_memories([new])
    data: dict[str, Any] = {"memory": memory_view(memory)}
    if session_id is None:
        data["note"] = (
            "Stored without a session (no current session"
            + (": this connection keeps no state" if ctx.state is None else "")
            + "); pass session_id, or call memory_session_start first, to store it in one."
        )
    return ToolOutput(data)


class RecallArgs(Arguments):
    query: Annotated[
        str,
        Field(
            min_length=1,
            description="Text to look for in the content of this agent's memories "
            "(case-insensitive). Use one keyword or a short distinctive phrase, e.g. "
            "'refresh token'.",
        ),
    ]
    limit: Annotated[
        int, Field(ge=1, le=MAX_RECALL, description="How many memories at most. Default 10.")
    ] = 10


def _recall(ctx: ToolContext, args: RecallArgs) -> ToolOutput:
    page = search_memories(ctx.backend, args.query, agent_id=ctx.agent_id(), limit=args.limit)
    return ToolOutput(
        {
            "query": args.query,
            "method": ctx.backend.search_method(),
            "count": page.count,
            "has_more": page.has_more,
            "memories": [memory_view(m) for m in page.memories],
        }
    )


# --- context ----------------------------------------------------------------------------


class ContextArgs(Arguments):
    session_id: SessionIdArg = None
    max_tokens: Annotated[
        int | None,
        Field(
            ge=1,
            le=MAX_CONTEXT_TOKENS,
            description="Token budget. The context returned never exceeds it (counted "
            "exactly over the whole text with the tokenizer in `encoding`); the most "
            "important and then the newest memories are kept. Default: no limit.",
        ),
    ] = None
    since: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="Only memories from this time on: relative ('30m', '2h', '7d', "
            "'1w', '1h30m') or ISO 8601 ('2026-03-14T09:00:00Z').",
        ),
    ] = None
    encoding: Annotated[
        Literal["cl100k_base", "o200k_base"],
        Field(description="The tokenizer the budget is counted with. Default cl100k_base."),
    ] = "cl100k_base"


def _context(ctx: ToolContext, args: ContextArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    result = ctx.backend.build_context(
        session_id,
        ContextRequest(since=args.since, max_tokens=args.max_tokens, encoding=args.encoding),
    )
    limit = f" of {result.max_tokens} allowed" if result.max_tokens is not None else ""
    memories = "memory" if result.memory_count == 1 else "memories"
    summary = (
        f"{result.token_count} tokens{limit} ({result.encoding}), {result.memory_count} "
        f"{memories}, {result.omitted_count} left out to fit"
    )
    return ToolOutput(result.to_json(), text=[summary, result.context])


# --- working memory ---------------------------------------------------------------------


class WorkingGetArgs(Arguments):
    key: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_ID,
            description="The key to read. Leave it out to read every key of the session.",
        ),
    ] = None
    session_id: SessionIdArg = None


def _working_get(ctx: ToolContext, args: WorkingGetArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    if args.key is not None:
        item = ctx.backend.get_working_memory(session_id, args.key)
        return ToolOutput({"item": _item_view(item)})
    items = ctx.backend.list_working_memory(session_id)
    return ToolOutput(
        {"session_id": session_id, "count": len(items), "items": [_item_view(i) for i in items]}
    )


class WorkingSetArgs(Arguments):
    key: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_ID,
            description="The key, e.g. 'current_task'. Setting an existing key replaces "
            "its value and raises its version by one.",
        ),
    ]
    value: Annotated[
        JsonValue,
        Field(
            description="Any JSON value: an object, a list, a string, a number, true, "
            "false or null (at most 64 levels deep).",
        ),
    ]
    importance: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="0 to 1. memory_session_commit turns keys at or above its "
            "threshold (0.5 by default) into long-term memories. Default 0.5 for a new "
            "key; an existing key keeps its importance.",
        ),
    ] = None
    expected_version: Annotated[
        int | None,
        Field(
            ge=0,
            description="Only write if the key is still at this version (0: only if it "
            "does not exist yet). Protects against overwriting a change someone else "
            "made since you read it.",
        ),
    ] = None
    session_id: SessionIdArg = None


def _working_set(ctx: ToolContext, args: WorkingSetArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    try:
        item = ctx.backend.set_working_memory(
            session_id,
            args.key,
            args.value,
            importance=args.importance,
            expected_version=args.expected_version,
        )
    except VersionConflictError as conflict:
        current = conflict.current
        now = f"at version {current.version}" if current is not None else "deleted"
        raise ToolArgumentError(
            "expected_version",
            f"the key {args.key!r} is {now}, not at version {args.expected_version}: it "
            "changed since you read it. Read it with memory_working_get and try again.",
            data={"current": _item_view(current) if current is not None else None},
        ) from None
    return ToolOutput({"item": _item_view(item)})


# --- snapshots, extend, briefing --------------------------------------------------------


class SnapshotArgs(Arguments):
    files_modified: Annotated[
        TextList, Field(description="Paths of the files changed in this session so far.")
    ] = []
    key_decisions: Annotated[
        TextList, Field(description="The important decisions made, one per item.")
    ] = []
    open_tasks: Annotated[
        TextList, Field(description="What is still to do, one task per item.")
    ] = []
    event: Annotated[
        Literal["pre_compact", "session_end", "checkpoint"],
        Field(
            description="Why the snapshot is taken: 'pre_compact' just before the "
            "context window is compacted, 'session_end' when the session ends cleanly, "
            "'checkpoint' for a manual save (the default).",
        ),
    ] = "checkpoint"
    project_path: Annotated[
        str | None,
        Field(min_length=1, max_length=4096, description="The working directory. Optional."),
    ] = None
    session_id: SessionIdArg = None


def _snapshot(ctx: ToolContext, args: SnapshotArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    snapshot = ctx.backend.create_snapshot(
        session_id,
        NewSnapshot(
            event=args.event,
            project_path=args.project_path,
            files_modified=list(args.files_modified),
            key_decisions=list(args.key_decisions),
            open_tasks=list(args.open_tasks),
        ),
    )
    return ToolOutput({"snapshot": _snapshot_view(snapshot)})


class ExtendArgs(Arguments):
    hours: Annotated[
        float,
        Field(
            gt=0,
            le=MAX_EXTEND_HOURS,
            description="Hours to add to the session's expiry (1 h left + 6 = 7 h left; "
            "an expired session is extended from now). Fractions work: 0.5 is 30 minutes.",
        ),
    ]
    session_id: SessionIdArg = None


def _extend(ctx: ToolContext, args: ExtendArgs) -> ToolOutput:
    session_id = ctx.session_id(args.session_id)
    session = ctx.backend.extend_session(session_id, timedelta(hours=args.hours))
    return ToolOutput({"session": session_view(session, ctx.backend.now())})


class BriefingArgs(Arguments):
    lookback_hours: Annotated[
        float,
        Field(
            gt=0,
            le=24 * 365,
            description="How far back 'recent activity' reaches, in hours. Default 24.",
        ),
    ] = DEFAULT_LOOKBACK_HOURS


def _briefing(ctx: ToolContext, args: BriefingArgs) -> ToolOutput:
    backend = ctx.backend
    agent = ctx.agent_id()
    briefing = backend.briefing(agent_id=agent, lookback=timedelta(hours=args.lookback_hours))
    now = backend.now()
    data = briefing.to_json(now)
    data["recent_activity"] = [memory_view(m) for m in briefing.recent_activity]
    data["active_sessions"] = [session_view(s, now) for s in briefing.active_sessions]
    data["expiring_soon"] = [session_view(s, now) for s in briefing.expiring_soon]
    return ToolOutput(data)


# --- the list ---------------------------------------------------------------------------

_SESSION_FIELDS = {"ttl": "ttl_seconds", "by": "hours", "min_importance": "importance_threshold"}

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "memory_session_start",
        "Start a memory session",
        "Start a new memory session for this agent and make it this connection's current "
        "session: memory_remember, memory_working_set, memory_snapshot and the other "
        "session tools then use it without a session_id. Call it once at the start of a "
        "task. Returns the session with its id and expiry. Call memory_briefing after it "
        "to see recent activity and the open tasks left by earlier sessions.",
        SessionStartArgs,
        _session_start,
        fields=_SESSION_FIELDS,
    ),
    ToolSpec(
        "memory_session_status",
        "Current session status",
        "Show this connection's current session: its status (active, expired, closed), "
        "when it expires and the time left, how many memories it holds, and its "
        "working-memory keys. Says so if there is no current session.",
        SessionStatusArgs,
        _session_status,
        read_only=True,
        idempotent=True,
    ),
    ToolSpec(
        "memory_session_commit",
        "Commit working memory",
        "Turn the session's working memory into long-term memories: every key whose "
        "importance is at least importance_threshold becomes one memory (type 'session', "
        "tagged with the key). Keys whose content is already a memory of this agent are "
        "skipped, so committing twice adds nothing. Returns what was created and skipped.",
        SessionCommitArgs,
        _session_commit,
        idempotent=True,
        requires=(Capability.COMMIT,),
        fields=_SESSION_FIELDS,
    ),
    ToolSpec(
        "memory_session_end",
        "End the session",
        "End the current session: by default first commit its working memory (as "
        "memory_session_commit), then close it. Memories, working memory and snapshots "
        "stay readable. Afterwards this connection has no current session until "
        "memory_session_start.",
        SessionEndArgs,
        _session_end,
        fields=_SESSION_FIELDS,
    ),
    ToolSpec(
        "memory_remember",
        "Remember something",
        "Store one long-term memory for this agent, in the current session if there is "
        "one. Use it for what should outlive this conversation: decisions and their "
        "reasons, facts learned about the code or the user, errors and how they were "
        "fixed. Returns the stored memory with its id.",
        RememberArgs,
        _remember,
        fields={"memory_type": "type"},
    ),
    ToolSpec(
        "memory_recall",
        "Recall memories",
        "Find this agent's memories (from every session) whose content contains the "
        "query text, newest first. Use it before starting on something to learn what "
        "was already decided or tried.",
        RecallArgs,
        _recall,
        read_only=True,
        idempotent=True,
    ),
    ToolSpec(
        "memory_context",
        "Build the session context",
        "Build the session's memories into LLM-ready markdown, grouped by type, within an "
        "exact token budget. The text result is a one-line summary (tokens used, memories "
        "included and left out) followed by the markdown itself.",
        ContextArgs,
        _context,
        read_only=True,
        idempotent=True,
    ),
    ToolSpec(
        "memory_working_get",
        "Read working memory",
        "Read the session's working memory: one key with its value and version, or every "
        "key. Working memory is short-term scratch state (the current task, files in "
        "play) that lives with the session.",
        WorkingGetArgs,
        _working_get,
        read_only=True,
        idempotent=True,
        requires=(Capability.WORKING_MEMORY,),
    ),
    ToolSpec(
        "memory_working_set",
        "Write working memory",
        "Set one working-memory key of the session to a JSON value. Pass "
        "expected_version (from memory_working_get) to write only if nobody changed the "
        "key since you read it. Returns the key with its new version.",
        WorkingSetArgs,
        _working_set,
        requires=(Capability.WORKING_MEMORY,),
    ),
    ToolSpec(
        "memory_snapshot",
        "Save a session snapshot",
        "Save a snapshot of the work state: files modified, key decisions and open "
        "tasks. Call it with event 'pre_compact' just before the context window is "
        "compacted, and with 'session_end' when finishing, so a later session can pick "
        "up from it (memory_briefing shows the open tasks).",
        SnapshotArgs,
        _snapshot,
        requires=(Capability.SNAPSHOTS,),
    ),
    ToolSpec(
        "memory_extend",
        "Extend the session",
        "Add hours to the current session's expiry so it does not expire while you "
        "still work in it. Returns the new expiry and the time left.",
        ExtendArgs,
        _extend,
        requires=(Capability.EXPIRY,),
        fields=_SESSION_FIELDS,
    ),
    ToolSpec(
        "memory_briefing",
        "Briefing",
        "A briefing for this agent: its active sessions and those expiring within the "
        "hour, the open tasks from each session's latest snapshot, and recent memories. "
        "Call it at the start of a task to pick up where earlier sessions left off.",
        BriefingArgs,
        _briefing,
        read_only=True,
        idempotent=True,
        requires=(Capability.BRIEFING,),
        fields={"lookback": "lookback_hours"},
    ),
)

TOOLS_BY_NAME: dict[str, ToolSpec] = {tool.name: tool for tool in TOOLS}


def argument_for(tool: ToolSpec, error: InvalidInputError) -> str | None:
    """The tool argument a backend InvalidInputError is about, if it is one."""
    name = error.field
    if not name:
        return None
    name = tool.fields.get(name, name)
    return name if name in tool.arguments.model_fields else None
