"""The full-text index (schema version 5, memtui.store.search_index): the substring
filter finds exactly what a scan finds, on both stores, on random text; the index
follows inserts, edits and deletes; an older store gets it built when it is opened."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from memtui.domain.models import MemoryPatch, MemoryQuery, NewMemory
from memtui.store import SCHEMA_VERSION, SqlStore
from memtui.store import search_index as search_index_module

FIXTURES = Path(__file__).parent / "fixtures"

# Mixed case, letters beyond ASCII whose case SQLite's lower() does not fold (the index
# does: it may only narrow, never decide), LIKE's own wildcards and escape character,
# the FTS5 query syntax's quote and operators, spaces.
ALPHABET = "abcABCxyzXYZ éÉßüÜİı%_/\\\"'*-:()"
contents = st.lists(
    st.text(ALPHABET, min_size=1, max_size=24).filter(str.strip), min_size=1, max_size=12
)


def reference(store: SqlStore, agent_id: str, needle: str) -> set[str]:
    """A scan that no index can serve: the same lower() on both sides as the filter's
    LIKE, compared with instr (SQLite) / strpos (PostgreSQL)."""
    find = "instr" if store.is_sqlite else "strpos"
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT id FROM memory WHERE agent_id = :agent "
                f"AND {find}(lower(content), lower(:needle)) > 0"
            ),
            {"agent": agent_id, "needle": needle},
        )
        return {row[0] for row in rows}


def found(store: SqlStore, agent_id: str, needle: str) -> set[str]:
    query = MemoryQuery(agent_id=agent_id, content_contains=needle, limit=10_000)
    ids = {m.id for m in store.list_memories(query).memories}
    assert store.count_memories(query) == len(ids)
    return ids


@pytest.fixture(params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("search") / "store.db"
        with SqlStore(f"sqlite:///{path}") as opened:
            yield opened
        return
    from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_search") as url, SqlStore(url) as opened:
        yield opened


@pytest.mark.parametrize("cap", [2000, 2])  # few candidates: read those; many: scan
def test_search_equals_a_reference_scan_on_random_text(
    store: SqlStore, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index_module, "MAX_CANDIDATES", cap)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        contents=contents,
        picks=st.lists(
            st.tuples(st.integers(0, 11), st.integers(0, 30), st.integers(1, 8)), max_size=4
        ),
        extra=st.lists(st.text(ALPHABET, min_size=1, max_size=6), max_size=3),
    )
    def check(contents: list[str], picks: list[tuple[int, int, int]], extra: list[str]) -> None:
        agent_id = "agent_" + uuid.uuid4().hex[:12]  # every example in its own scope
        stored = store.add_memories([NewMemory(agent_id=agent_id, content=c) for c in contents])
        # Needles: pieces of what was stored (so there are hits), in another case, and
        # random text (mostly misses).
        needles = [contents[i % len(contents)][start : start + size] for i, start, size in picks]
        needles += [needle.swapcase() for needle in needles] + extra
        needles = [needle for needle in needles if needle]
        for needle in needles:
            assert found(store, agent_id, needle) == reference(store, agent_id, needle), needle
        # The index follows edits and deletes.
        store.update_memory(stored[0].id, MemoryPatch(content=contents[-1] + " edited"))
        store.delete_memories([m.id for m in stored[1::2]])
        for needle in [*needles, "edited"]:
            assert found(store, agent_id, needle) == reference(store, agent_id, needle), needle

    check()


def test_short_and_long_needles_combine_with_other_filters(store: SqlStore) -> None:
    agent_id = "agent_filters"
    session = store.create_session(agent_id)
    store.add_memories(
        [
            NewMemory(
                agent_id=agent_id, content="Deploy the invoice service", session_id=session.id
            ),
            NewMemory(agent_id=agent_id, content="invoice refund", memory_type="decision"),
            NewMemory(agent_id=agent_id, content="an in-joke"),
        ]
    )
    in_session = MemoryQuery(session_id=session.id, content_contains="INVOICE")
    assert [m.content for m in store.list_memories(in_session).memories] == [
        "Deploy the invoice service"
    ]
    decisions = MemoryQuery(agent_id=agent_id, memory_types=("decision",), content_contains="in")
    assert [m.content for m in store.list_memories(decisions).memories] == ["invoice refund"]
    assert store.count_memories(MemoryQuery(agent_id=agent_id, content_contains="in")) == 3


def copy_v3(tmp_path: Path) -> Path:
    copy = tmp_path / "store_v3.db"
    shutil.copyfile(FIXTURES / "store_v3.db", copy)  # never touch the committed file
    return copy


def test_opening_a_v3_sqlite_store_builds_the_index_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    path = copy_v3(tmp_path)
    with sqlite3.connect(path) as conn:
        [(memories,)] = conn.execute("SELECT count(*) FROM memory")
        assert (
            conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'memory_fts'").fetchone() is None
        )
    monkeypatch.setattr(search_index_module, "PROGRESS_FROM", 1)  # the fixture is small
    monkeypatch.setattr(search_index_module, "BUILD_CHUNK", 7)  # several chunks
    with SqlStore(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION >= 5
        agents = {m.agent_id for m in store.list_memories(MemoryQuery(limit=1000)).memories}
        for agent_id in agents:
            for needle in ("memory", "MEM", "1:", "planner", "zzz"):
                assert found(store, agent_id, needle) == reference(store, agent_id, needle)
    err = capfd.readouterr().err
    assert f"building the search index of {memories:,} memories" in err
    assert f"search index built ({memories:,} memories)" in err
    with sqlite3.connect(path) as conn:
        # FTS5's own check: the index holds exactly the content table's rows.
        conn.execute("INSERT INTO memory_fts(memory_fts) VALUES ('integrity-check')")
        [(indexed,)] = conn.execute("SELECT count(*) FROM memory_fts_docsize")
        assert indexed == memories


def test_a_fresh_store_has_what_the_upgrade_builds(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    SqlStore(f"sqlite:///{fresh}").close()
    upgraded = copy_v3(tmp_path)
    SqlStore(f"sqlite:///{upgraded}").close()

    def search_objects(path: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE name LIKE 'memory_fts%' ORDER BY name"
            )
            return rows.fetchall()

    assert search_objects(upgraded) == search_objects(fresh) != []


@pytest.mark.postgres
def test_opening_a_v3_postgres_store_builds_the_trigram_index() -> None:
    import psycopg

    from tests.helpers.postgres import libpq_dsn, skip_or_fail_without_postgres, throwaway_database

    skip_or_fail_without_postgres()
    with throwaway_database("memtui_search_v3") as url:
        script = (FIXTURES / "store_v3_postgres.sql").read_text(encoding="utf-8")
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(script)
        with SqlStore(url) as store:
            assert store.schema_version() == SCHEMA_VERSION
            with store.engine.connect() as conn:
                definition = conn.execute(
                    text(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_memory_content_trgm'"
                    )
                ).scalar()
            assert definition is not None and "gin_trgm_ops" in definition
            agents = {m.agent_id for m in store.list_memories(MemoryQuery(limit=1000)).memories}
            for agent_id in agents:
                for needle in ("memory", "MEM", "1:", "planner", "zzz"):
                    assert found(store, agent_id, needle) == reference(store, agent_id, needle)


def test_search_ranks_the_best_match_first(store: SqlStore) -> None:
    agent_id = "agent_ranked"
    store.add_memories(
        [
            NewMemory(agent_id=agent_id, content="refresh token refresh token refresh"),
            NewMemory(
                agent_id=agent_id,
                content="a long note on billing, invoices, customers and, once, a refresh",
            ),
            NewMemory(agent_id=agent_id, content="unrelated"),
        ]
    )
    page = store.search_memories(MemoryQuery(agent_id=agent_id, content_contains="Refresh"))
    assert [m.content for m in page.memories][0] == "refresh token refresh token refresh"
    assert page.count == 2 and not page.has_more
    assert "best match first" in store.search_method()
