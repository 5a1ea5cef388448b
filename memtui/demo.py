"""Realistic demo data that shows every memtui feature.

`populate_demo(backend, now=..., seed=7)` is deterministic for a given `now` and `seed`
(explicit session and memory ids, times relative to `now`), so UI snapshot tests are
stable, and idempotent: each part of a session (the session, its memories, its working
memory, its snapshots) is written only if it is not there yet, so running it twice
duplicates nothing.

Backdated sessions (expired, closed yesterday) need a store that can import a session
as is (`SqlStore.import_session`); on other backends they are created through the
protocol with the remaining TTL, and the already expired ones are skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from memtui.backend import Backend
from memtui.domain.clock import ensure_utc
from memtui.domain.errors import NotFoundError
from memtui.domain.models import MemoryQuery, NewMemory, NewSnapshot, Session, SessionStatus

DEMO_SESSION_PREFIX = "sess_demo_"
DEMO_MEMORY_PREFIX = "mem_demo_"

# The demo agents and what they do (shown in the summary).
AGENTS: dict[str, str] = {
    "researcher": "Reads papers and summarises findings on retrieval-augmented generation",
    "support-bot": "Answers customer tickets for the billing product",
    "code-assistant": "Pairs with developers on the web app's code base",
    "data-pipeline": "Runs the nightly ETL from the orders database to the warehouse",
}


@dataclass(frozen=True)
class DemoSession:
    """One demo session: its timing relative to `now` and what it holds."""

    key: str
    agent: str
    title: str
    started_ago: timedelta
    ttl: timedelta | None  # None: never expires
    closed_ago: timedelta | None = None
    memory_count: int = 40
    workspace: str | None = None
    working_memory: dict[str, tuple[Any, float]] = field(default_factory=dict)
    snapshots: tuple[dict[str, Any], ...] = ()

    @property
    def session_id(self) -> str:
        return DEMO_SESSION_PREFIX + self.key


@dataclass(frozen=True)
class DemoSummary:
    """What the demo store holds, and what this run added."""

    describe: str
    agents: int
    sessions: int
    memories: int
    working_memory_items: int
    snapshots: int
    sessions_by_status: dict[str, int]
    created_sessions: int
    created_memories: int
    created_working_memory_items: int
    created_snapshots: int

    @property
    def created_anything(self) -> bool:
        return bool(
            self.created_sessions
            or self.created_memories
            or self.created_working_memory_items
            or self.created_snapshots
        )

    def lines(self) -> list[str]:
        status = ", ".join(f"{n} {s}" for s, n in self.sessions_by_status.items() if n)
        lines = [
            f"Demo data in {self.describe}:",
            f"  {self.agents} agents, {self.sessions} sessions ({status})",
            f"  {self.memories} memories, {self.working_memory_items} working-memory items, "
            f"{self.snapshots} snapshots",
        ]
        if self.created_anything:
            lines.append(
                f"  added now: {self.created_sessions} sessions, {self.created_memories} "
                f"memories, {self.created_working_memory_items} working-memory items, "
                f"{self.created_snapshots} snapshots"
            )
        else:
            lines.append("  nothing added: the demo data was already there")
        return lines


# --- the sessions ------------------------------------------------------------------------

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)

SESSIONS: tuple[DemoSession, ...] = (
    DemoSession(
        key="rag_survey",
        agent="researcher",
        title="Survey of retrieval-augmented generation",
        started_ago=1 * H,
        ttl=6 * H,
        memory_count=70,
        workspace="ws_research",
        working_memory={
            "current_task": (
                {
                    "goal": "Compare dense and hybrid retrievers",
                    "papers": ["RAG (Lewis 2020)", "RETRO", "Atlas", "Self-RAG"],
                    "progress": {"read": 3, "total": 4, "notes_file": "notes/rag.md"},
                },
                0.9,
            ),
            "open_questions": (
                ["Does reranking help with long contexts?", "Cost of re-indexing weekly?"],
                0.7,
            ),
            "scratch": ("bm25 k1=1.2 b=0.75 looked best on the small set", 0.2),
        },
        snapshots=(
            {
                "event": "checkpoint",
                "ago": 20 * M,
                "project_path": "~/research/rag-survey",
                "files_modified": ["notes/rag.md", "tables/benchmarks.csv"],
                "key_decisions": ["Use BEIR as the common benchmark"],
                "open_tasks": ["Summarise Self-RAG", "Draft the comparison table"],
            },
        ),
    ),
    DemoSession(
        key="ticket_4821",
        agent="support-bot",
        title="Ticket #4821: double charge on annual plan",
        started_ago=6 * H - 7 * M,
        ttl=6 * H,  # 7 minutes left
        memory_count=35,
        working_memory={
            "customer": (
                {"id": "cus_88213", "plan": "annual", "region": "EU", "vip": True},
                0.8,
            ),
            "refund": ({"amount": 129.0, "currency": "EUR", "status": "pending"}, 0.9),
        },
        snapshots=(
            {
                "event": "checkpoint",
                "ago": 30 * M,
                "key_decisions": ["Refund the duplicate charge, keep the plan"],
                "open_tasks": ["Confirm refund with payments team", "Email the customer"],
            },
        ),
    ),
    DemoSession(
        key="auth_refactor",
        agent="code-assistant",
        title="Refactor the auth module to short-lived JWTs",
        started_ago=5 * H + 15 * M,
        ttl=6 * H,  # 45 minutes left
        memory_count=90,
        workspace="ws_webapp",
        working_memory={
            "plan": (
                {
                    "steps": [
                        {"n": 1, "do": "extract token service", "done": True},
                        {"n": 2, "do": "add refresh tokens", "done": True},
                        {"n": 3, "do": "rotate signing keys", "done": False},
                    ],
                    "branch": "feat/short-jwt",
                },
                0.9,
            ),
            "failing_tests": (["test_refresh_after_logout", "test_clock_skew"], 0.6),
            "env": ({"python": "3.12", "db": "postgres 16", "flags": {"ci": True}}, 0.3),
        },
        snapshots=(
            {
                "event": "checkpoint",
                "ago": 4 * H,
                "project_path": "~/src/webapp",
                "files_modified": ["auth/tokens.py"],
                "key_decisions": ["Access tokens live 15 minutes"],
                "open_tasks": ["Add refresh tokens"],
            },
            {
                "event": "pre_compact",
                "ago": 50 * M,
                "project_path": "~/src/webapp",
                "files_modified": ["auth/tokens.py", "auth/refresh.py", "tests/test_auth.py"],
                "key_decisions": [
                    "Access tokens live 15 minutes",
                    "Refresh tokens are single use and rotate",
                ],
                "open_tasks": ["Rotate signing keys", "Fix test_clock_skew"],
            },
        ),
    ),
    DemoSession(
        key="nightly_etl",
        agent="data-pipeline",
        title="Nightly ETL: orders to warehouse",
        started_ago=3 * D,
        ttl=None,  # never expires
        memory_count=80,
        workspace="ws_data",
        working_memory={
            "watermark": ({"orders": "2026-03-13T23:59:59Z", "refunds": None}, 0.8),
            "last_run": ({"rows": 184223, "seconds": 412.5, "status": "partial"}, 0.6),
        },
        snapshots=(
            {
                "event": "session_end",
                "ago": 10 * H,
                "key_decisions": ["Skip malformed rows, report them"],
                "open_tasks": ["Backfill refunds for 2026-03-12"],
            },
        ),
    ),
    DemoSession(
        key="ticket_4833",
        agent="support-bot",
        title="Ticket #4833: invoice address change",
        started_ago=40 * M,
        ttl=4 * H,
        memory_count=20,
    ),
    DemoSession(
        key="prompt_eval",
        agent="researcher",
        title="Prompt evaluation on the QA set",
        started_ago=8 * H,
        ttl=6 * H,  # expired 2 hours ago
        memory_count=45,
        snapshots=(
            {
                "event": "session_end",
                "ago": 2 * H + 5 * M,
                "key_decisions": ["Chain-of-thought prompt wins on multi-hop questions"],
                "open_tasks": ["Rerun with the new tokenizer"],
            },
        ),
    ),
    DemoSession(
        key="ci_flake",
        agent="code-assistant",
        title="Hunt the flaky CI test",
        started_ago=3 * D + 6 * H,
        ttl=6 * H,  # expired 3 days ago
        memory_count=30,
    ),
    DemoSession(
        key="ticket_4790",
        agent="support-bot",
        title="Ticket #4790: password reset loop",
        started_ago=1 * D + 3 * H,
        ttl=6 * H,
        closed_ago=1 * D + 1 * H,
        memory_count=25,
    ),
    DemoSession(
        key="backfill_march",
        agent="data-pipeline",
        title="Backfill March partitions",
        started_ago=2 * D,
        ttl=None,
        closed_ago=1 * D + 20 * H,
        memory_count=35,
    ),
)

# --- what agents write -------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "researcher": {
        "episodic": [
            "Read {paper}: retrieval happens once per generated answer",
            "Ran {paper} baseline on the {dataset} split: recall@10 = {pct}%",
            "Skimmed the related-work section of {paper}",
            "Indexed {n} documents with the {retriever} retriever",
            "Compared answers with and without reranking on {dataset}",
        ],
        "decision": [
            "Use {retriever} as the default retriever for the comparison",
            "Report exact match and F1, not BLEU",
            "Drop {dataset} from the benchmark: too small to be meaningful",
        ],
        "entity": [
            "{paper}: a {year} paper, code on GitHub, Apache-2.0",
            "{dataset}: open-domain QA dataset with {n} questions",
        ],
        "session": [
            "Goal for today: finish the survey table for {paper}",
            "Reminder: results must use the same {retriever} index",
        ],
        "observation": [
            "Latency doubles when the context exceeds {n} tokens",
            "{retriever} retrieval misses acronyms more often than expected",
        ],
        "error": [
            "Download of {paper} PDF failed: HTTP 503",
            "Out of memory while embedding {n} passages on the GPU",
        ],
    },
    "support-bot": {
        "episodic": [
            "Customer wrote: charged twice for the {plan} plan",
            "Looked up invoice INV-{n} for the customer",
            "Sent the customer the {article} help article",
            "Customer confirmed the card ending in {digits}",
            "Escalated to the billing team with the invoice ids",
        ],
        "decision": [
            "Refund the duplicate charge of {amount} EUR",
            "Keep the {plan} plan active during the investigation",
        ],
        "entity": [
            "Customer cus_{n}: {plan} plan since {year}",
            "Invoice INV-{n}: {amount} EUR, paid",
        ],
        "session": ["Ticket priority: high (VIP customer)", "SLA: answer within {n} minutes"],
        "observation": ["Third double-charge ticket this week on the {plan} plan"],
        "error": [
            "Payments API timed out after 30 s while issuing the refund",
            "Could not find invoice INV-{n}",
        ],
    },
    "code-assistant": {
        "episodic": [
            "Opened {file} and read the token validation path",
            "Ran the test suite: {n} passed, {small} failed",
            "Extracted TokenService from {file}",
            "Added a refresh endpoint in {file}",
            "Reviewed the diff of {file} with the developer",
        ],
        "decision": [
            "Access tokens live 15 minutes; refresh tokens 7 days",
            "Refresh tokens are single use and rotate on every refresh",
            "Sign tokens with EdDSA instead of HS256",
        ],
        "entity": [
            "{file}: owns token creation and validation",
            "TokenService: the new seam for tests, lives in {file}",
        ],
        "session": ["Working on branch feat/short-jwt", "Developer prefers small commits"],
        "observation": ["{file} has no tests for expired tokens"],
        "error": [
            "pytest failed: test_clock_skew in {file}",
            "mypy: incompatible return type in {file} line {small}",
            "Import cycle between auth.tokens and auth.refresh",
        ],
    },
    "data-pipeline": {
        "episodic": [
            "Extracted {n} rows from orders since the last watermark",
            "Loaded partition {date} into warehouse.orders",
            "Validated {n} rows: {small} rejected",
            "Vacuumed staging tables in {seconds} s",
        ],
        "decision": [
            "Skip malformed rows and write them to the reject table",
            "Run the refunds backfill after the nightly job",
        ],
        "entity": [
            "warehouse.orders: partitioned by day, {n} rows",
            "orders_db replica: read-only, lag under {small} s",
        ],
        "session": ["Nightly schedule: 02:00 UTC", "Watermark column: updated_at"],
        "observation": ["Row count grew {pct}% week over week"],
        "error": [
            "Connection reset by orders_db replica during extract",
            "Partition {date} already exists; load skipped",
            "Schema drift: column discount_code is new in orders",
        ],
    },
}

TAGS: dict[str, list[str]] = {
    "researcher": ["rag", "retrieval", "benchmark", "paper", "reranking", "survey"],
    "support-bot": ["billing", "refund", "vip", "invoice", "escalation", "eu"],
    "code-assistant": ["auth", "jwt", "tests", "refactor", "security", "ci"],
    "data-pipeline": ["etl", "orders", "warehouse", "backfill", "quality", "nightly"],
}

FILLERS: dict[str, list[str]] = {
    "paper": ["RAG (Lewis 2020)", "RETRO", "Atlas", "Self-RAG", "REPLUG", "FiD"],
    "dataset": ["NaturalQuestions", "TriviaQA", "HotpotQA", "BEIR-SciFact"],
    "retriever": ["BM25", "Contriever", "ColBERTv2", "hybrid BM25+DPR"],
    "plan": ["annual", "monthly", "team"],
    "article": ["Refund policy", "Update billing details", "Reset your password"],
    "file": ["auth/tokens.py", "auth/refresh.py", "auth/middleware.py", "tests/test_auth.py"],
    "date": ["2026-03-11", "2026-03-12", "2026-03-13"],
}

TYPE_WEIGHTS = (
    ("episodic", 50),
    ("decision", 12),
    ("entity", 10),
    ("session", 8),
    ("observation", 8),
)
ERROR_RATE = 0.08


def _fill(template: str, rng: random.Random) -> str:
    values: dict[str, Any] = {name: rng.choice(options) for name, options in FILLERS.items()}
    values.update(
        n=rng.randint(1000, 99999),
        small=rng.randint(1, 9),
        pct=rng.randint(20, 95),
        year=rng.randint(2019, 2025),
        digits=f"{rng.randint(0, 9999):04d}",
        amount=f"{rng.randint(9, 499)}.00",
        seconds=rng.randint(3, 300),
    )
    return template.format(**values)


def demo_memories(spec: DemoSession, now: datetime, seed: int) -> list[NewMemory]:
    """The session's memories, spread evenly over its active life, oldest first."""
    rng = random.Random(f"{seed}:{spec.key}")
    start = now - spec.started_ago
    end = now - spec.closed_ago if spec.closed_ago is not None else now
    if spec.ttl is not None:
        end = min(end, start + spec.ttl)
    span = (end - start) - timedelta(minutes=1)
    templates = TEMPLATES[spec.agent]
    types = [name for name, _ in TYPE_WEIGHTS]
    weights = [weight for _, weight in TYPE_WEIGHTS]
    memories: list[NewMemory] = []
    for index in range(spec.memory_count):
        is_error = rng.random() < ERROR_RATE
        memory_type = "episodic" if is_error else rng.choices(types, weights)[0]
        template = rng.choice(templates["error" if is_error else memory_type])
        memory_id = f"{DEMO_MEMORY_PREFIX}{spec.key}_{index:03d}"
        # A third of the memories follow up on the one before (parent_id chains).
        parent_id = memories[-1].id if memories and rng.random() < 0.33 else None
        fraction = (index + rng.random() * 0.5) / spec.memory_count
        memories.append(
            NewMemory(
                id=memory_id,
                agent_id=spec.agent,
                session_id=spec.session_id,
                content=_fill(template, rng),
                memory_type=memory_type,
                event_type="error" if is_error else rng.choice(["general", "tool_call", "note"]),
                tags=sorted(rng.sample(TAGS[spec.agent], rng.randint(0, 3))),
                importance=round(rng.uniform(0.1, 1.0) * 20) / 20,
                metadata={
                    "source": "demo",
                    "step": index + 1,
                    "tool": rng.choice(["search", "shell", "editor", "http", "sql"]),
                    "duration_ms": rng.randint(5, 4000),
                },
                parent_id=parent_id,
                time=start + span * fraction,
            )
        )
    return memories


def _sessionless_memories(now: datetime, seed: int) -> list[NewMemory]:
    """A few agent-level memories outside any session (memories outlive sessions)."""
    rng = random.Random(f"{seed}:agent-level")
    notes = [
        ("researcher", "entity", "The team's reading list lives in notes/reading.md"),
        ("support-bot", "decision", "Refunds above 500 EUR need a human approval"),
        ("code-assistant", "entity", "The web app deploys from main every weekday at 14:00"),
        ("data-pipeline", "observation", "The warehouse is read-only on Sundays 01:00-03:00"),
    ]
    return [
        NewMemory(
            id=f"{DEMO_MEMORY_PREFIX}agent_{index:03d}",
            agent_id=agent,
            content=content,
            memory_type=memory_type,
            tags=["long-term"],
            importance=0.8,
            metadata={"source": "demo"},
            time=now - timedelta(days=2, minutes=rng.randint(0, 600)),
        )
        for index, (agent, memory_type, content) in enumerate(notes)
    ]


# --- populating --------------------------------------------------------------------------


def _ensure_session(backend: Backend, spec: DemoSession, now: datetime) -> bool:
    """Create the session unless it exists; True if it was created now."""
    try:
        backend.get_session(spec.session_id)
        return False
    except NotFoundError:
        pass
    created_at = now - spec.started_ago
    expires_at = None if spec.ttl is None else created_at + spec.ttl
    closed_at = None if spec.closed_ago is None else now - spec.closed_ago
    metadata = {"title": spec.title, "demo": True}
    import_session: Callable[[Session], Session] | None = getattr(backend, "import_session", None)
    if import_session is not None:
        import_session(
            Session(
                id=spec.session_id,
                agent_id=spec.agent,
                status=(SessionStatus.CLOSED if closed_at else SessionStatus.ACTIVE).value,
                created_at=created_at,
                updated_at=closed_at or created_at,
                expires_at=expires_at,
                closed_at=closed_at,
                workspace_id=spec.workspace,
                metadata=metadata,
            )
        )
        return True
    backend_now = backend.now()
    if expires_at is not None and expires_at <= backend_now:
        return False  # cannot backdate through the protocol
    backend.create_session(
        spec.agent,
        metadata=metadata,
        workspace_id=spec.workspace,
        ttl=None if expires_at is None else expires_at - backend_now,
        session_id=spec.session_id,
    )
    if closed_at is not None:
        backend.close_session(spec.session_id)
    return True


def populate_demo(backend: Backend | str, *, now: datetime, seed: int = 7) -> DemoSummary:
    """Fill `backend` (or the store at this URL) with the demo data; see module doc."""
    if isinstance(backend, str):
        from memtui.store import SqlStore

        store = SqlStore(backend)
        try:
            return populate_demo(store, now=now, seed=seed)
        finally:
            store.close()

    now = ensure_utc(now)
    created_sessions = created_memories = created_items = created_snapshots = 0
    for agent in AGENTS:
        # Registered by name, so the agent's id is its readable name everywhere.
        backend.ensure_agent(agent)

    for spec in SESSIONS:
        if _ensure_session(backend, spec, now):
            created_sessions += 1
        try:
            backend.get_session(spec.session_id)
        except NotFoundError:
            continue
        if backend.count_memories(MemoryQuery(session_id=spec.session_id)) == 0:
            created_memories += len(backend.add_memories(demo_memories(spec, now, seed)))
        if spec.working_memory and not backend.list_working_memory(spec.session_id):
            for key, (value, importance) in spec.working_memory.items():
                backend.set_working_memory(
                    spec.session_id, key, value, importance=importance, expected_version=0
                )
                created_items += 1
        if spec.snapshots and not backend.list_snapshots(spec.session_id):
            for snapshot in spec.snapshots:
                created_snapshots += 1
                _create_snapshot(backend, spec.session_id, snapshot, now)

    have = {
        m.id for m in backend.list_memories(MemoryQuery(tags=("long-term",), limit=100)).memories
    }
    missing = [m for m in _sessionless_memories(now, seed) if m.id not in have]
    if missing:
        created_memories += len(backend.add_memories(missing))

    return _summary(
        backend,
        created_sessions=created_sessions,
        created_memories=created_memories,
        created_items=created_items,
        created_snapshots=created_snapshots,
    )


def _create_snapshot(
    backend: Backend, session_id: str, spec: dict[str, Any], now: datetime
) -> None:
    snapshot = NewSnapshot(
        event=spec["event"],
        project_path=spec.get("project_path"),
        files_modified=list(spec.get("files_modified", [])),
        key_decisions=list(spec.get("key_decisions", [])),
        open_tasks=list(spec.get("open_tasks", [])),
    )
    if hasattr(backend, "import_session"):
        # A local store can backdate the snapshot; other backends stamp it "now".
        backend.create_snapshot(session_id, snapshot, created_at=now - spec["ago"])  # type: ignore[call-arg]
    else:
        backend.create_snapshot(session_id, snapshot)


def _summary(
    backend: Backend,
    *,
    created_sessions: int,
    created_memories: int,
    created_items: int,
    created_snapshots: int,
) -> DemoSummary:
    now = backend.now()
    sessions = [s for s in backend.list_sessions() if s.id.startswith(DEMO_SESSION_PREFIX)]
    by_status = {status.value: 0 for status in SessionStatus}
    for session in sessions:
        by_status[session.effective_status(now).value] += 1
    items = sum(len(backend.list_working_memory(s.id)) for s in sessions)
    snapshots = sum(len(backend.list_snapshots(s.id)) for s in sessions)
    return DemoSummary(
        describe=backend.describe(),
        agents=len(backend.list_agents()),
        sessions=len(sessions),
        memories=backend.count_memories(MemoryQuery()),
        working_memory_items=items,
        snapshots=snapshots,
        sessions_by_status=by_status,
        created_sessions=created_sessions,
        created_memories=created_memories,
        created_working_memory_items=created_items,
        created_snapshots=created_snapshots,
    )
