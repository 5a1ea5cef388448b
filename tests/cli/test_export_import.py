"""`memtui export` and `memtui import` (issue 15 §3) as a user and a script run them:
real subprocesses on real SQLite files, real PostgreSQL, and a real `memtui serve`.

- export → import into an empty store → export gives the same bytes, hostile text and
  all, through SQLite, PostgreSQL and HTTP;
- importing twice adds nothing (and writes nothing to the change feed);
- a malformed line is reported with its number, and nothing is written;
- an object stored with other values is kept and reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from memtui.domain.models import (
    MemoryQuery,
    NewMemory,
    NewSnapshot,
    Session,
    dt_from_json,
    dt_to_json,
)
from memtui.store import SqlStore
from tests.helpers.hostile import STORABLE_STRINGS, deep_json
from tests.helpers.live_server import start_live_server
from tests.helpers.memorylayer import MemoryLayerServer
from tests.helpers.postgres import skip_or_fail_without_postgres, throwaway_database


def memtui(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=180,
        env=dict(os.environ),
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, stderr)
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    return stderr.strip()


def seed(url: str) -> None:
    """Every kind of object, with the awkward cases: hostile text, a closed and a
    never-expiring session, a working-memory key at version 3, memories sharing one
    timestamp (their order is insertion order), deep JSON, a parent link."""
    with SqlStore(url) as store:
        store.create_agent("planner", description="[b]plans[/b] \x1b]0;TITLE\x07")
        live = store.create_session("planner", session_id="sess_live", workspace_id="ws-1")
        store.create_session("planner", session_id="sess_forever", ttl=None)
        closed = store.create_session("scout", session_id="sess_closed", metadata={"k": [1]})
        store.close_session(closed.id)
        for version in range(3):
            store.set_working_memory(live.id, "plan", {"step": version, "note": "[WIP] x"})
        store.set_working_memory(live.id, "\x1b[2Jkey", deep_json(60), importance=0.9)
        store.create_snapshot(
            live.id,
            NewSnapshot(event="pre_compact", files_modified=["a.py"], open_tasks=["[P1]: x"]),
        )
        same_time = store.now() - timedelta(hours=1)
        first = store.add_memories(
            [
                NewMemory(
                    agent_id="planner",
                    session_id=live.id,
                    content=text,
                    tags=["t1", "[tag]"],
                    importance=0.25 * (index % 5),
                    metadata={"i": index, "deep": deep_json(10)},
                    time=same_time,
                )
                for index, text in enumerate(STORABLE_STRINGS)
            ]
        )
        store.add_memories(
            [
                NewMemory(
                    agent_id="scout",
                    session_id=closed.id,
                    content="child",
                    memory_type="decision",
                    parent_id=first[0].id,
                    dedup_key="d1",
                )
            ]
        )


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    seed(url)
    return url


def export(url: str, *extra: str) -> bytes:
    return ok(memtui("--db", url, "export", *extra))


def test_round_trip_is_byte_exact_and_safe_on_a_terminal(seeded: str, tmp_path: Path) -> None:
    first = export(seeded)
    lines = first.decode("utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": "memtui-export", "version": 1}
    kinds = [json.loads(line)["kind"] for line in lines[1:]]
    rank = {"agent": 0, "session": 1, "snapshot": 2, "working_memory": 2, "memory": 3}
    assert [rank[k] for k in kinds] == sorted(rank[k] for k in kinds)  # references first
    assert kinds.count("agent") == 2 and kinds.count("session") == 3
    assert kinds.count("working_memory") == 2 and kinds.count("snapshot") == 1
    assert kinds.count("memory") == len(STORABLE_STRINGS) + 1
    # Stored escape sequences are JSON escapes, never raw control bytes.
    assert b"\x1b" not in first and b"\xc2\x9b" not in first and b"\x07" not in first

    target = f"sqlite:///{tmp_path / 'target.db'}"
    summary = ok(memtui("--db", target, "import", "-", "--json", stdin=first))
    report = json.loads(summary)
    assert report["added"] == len(lines) - 1 and report["unchanged"] == 0
    assert export(target) == first

    with SqlStore(seeded) as source, SqlStore(target) as copy:
        for session_id in ("sess_live", "sess_forever", "sess_closed"):
            assert copy.get_session(session_id) == source.get_session(session_id)
        assert copy.get_working_memory("sess_live", "plan").version == 3
        assert copy.list_working_memory("sess_live") == source.list_working_memory("sess_live")
        assert copy.list_snapshots("sess_live") == source.list_snapshots("sess_live")


def test_importing_twice_adds_nothing(seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "store.jsonl"
    path.write_bytes(export(seeded))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    ok(memtui("--db", target, "import", str(path)))
    with SqlStore(target) as store:
        cursor = store.latest_change_id()
    again = json.loads(ok(memtui("--db", target, "import", str(path), "--json")))
    assert again["added"] == 0 and again["conflicts"] == []
    assert again["unchanged"] == len(path.read_text().splitlines()) - 1
    with SqlStore(target) as store:
        assert store.latest_change_id() == cursor  # nothing written at all
    text = ok(memtui("--db", target, "import", str(path))).decode()
    assert "0 added" in text and "already there" in text


def test_a_malformed_line_is_named_and_nothing_is_written(seeded: str, tmp_path: Path) -> None:
    lines = export(seeded).decode().splitlines()
    broken = [*lines[:4], '{"kind": "memory", "data": {"id": "m1"', *lines[4:]]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(broken) + "\n")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    message = error_line(memtui("--db", target, "import", str(path)))
    assert "line 5: not valid JSON" in message and "nothing was imported" in message
    with SqlStore(target) as store:
        assert store.list_agents() == [] and store.list_sessions() == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"importance": 7}, "line 3: memory: importance must be a number from 0 to 1"),
        ({"time": "yesterday"}, "line 3: memory: time must be an RFC 3339 time"),
        ({"content": ""}, "line 3: memory: content must be a non-empty string"),
        ({"id": "a/b"}, "line 3: memory: id 'a/b' cannot contain '/'"),
        ({"metadata": deep_json(80)}, "metadata is nested more than 64 levels deep"),
    ],
)
def test_a_bad_field_is_named_with_its_line(
    tmp_path: Path, data: dict[str, object], expected: str
) -> None:
    good = {
        "id": "mem_1",
        "time": "2026-11-29T00:00:00Z",
        "agent_id": "a",
        "content": "fine",
    }
    lines = [
        json.dumps({"format": "memtui-export", "version": 1}),
        json.dumps({"kind": "memory", "data": {**good, "id": "mem_0"}}),
        json.dumps({"kind": "memory", "data": {**good, **data}}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    message = error_line(memtui("--db", target, "import", str(path)))
    assert expected in message
    with SqlStore(target) as store:
        assert store.list_agents() == []  # line 2 was fine, and still nothing was written


def test_working_memory_of_a_session_in_neither_file_nor_store_is_refused(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps({"format": "memtui-export", "version": 1}),
        json.dumps(
            {
                "kind": "working_memory",
                "data": {
                    "session_id": "sess_nowhere",
                    "key": "k",
                    "value": 1,
                    "importance": 0.5,
                    "version": 2,
                    "updated_at": "2026-11-29T00:00:00Z",
                },
            }
        ),
    ]
    path = tmp_path / "orphan.jsonl"
    path.write_text("\n".join(lines) + "\n")
    message = error_line(memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", str(path)))
    assert "line 2: working_memory belongs to session 'sess_nowhere'" in message


def test_not_an_export_is_refused_by_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    message = error_line(memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", str(path)))
    assert "line 1: not a memtui export" in message
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "empty" in error_line(
        memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", str(empty))
    )
    assert "cannot read" in error_line(
        memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", str(tmp_path / "missing"))
    )


def test_an_object_stored_with_other_values_is_kept_and_reported(
    seeded: str, tmp_path: Path
) -> None:
    first = export(seeded)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    ok(memtui("--db", target, "import", "-", stdin=first))
    with SqlStore(target) as store:
        store.update_session("sess_live", metadata={"changed": True})
    result = memtui("--db", target, "import", "-", "--json", stdin=first)
    report = json.loads(ok(result))
    assert report["added"] == 0
    assert report["conflicts"] == [
        {"line": report["conflicts"][0]["line"], "kind": "session", "key": ["sess_live"]}
    ]
    assert "session sess_live is stored with other values; kept as stored" in result.stderr.decode()
    with SqlStore(target) as store:
        assert store.get_session("sess_live").metadata == {"changed": True}


def test_scoped_exports_hold_what_the_scope_needs(seeded: str) -> None:
    by_agent = [json.loads(line) for line in export(seeded, "--agent", "scout").splitlines()[1:]]
    assert {r["data"]["id"] for r in by_agent if r["kind"] == "agent"} == {"scout"}
    assert {r["data"]["id"] for r in by_agent if r["kind"] == "session"} == {"sess_closed"}
    assert [r["data"]["content"] for r in by_agent if r["kind"] == "memory"] == ["child"]

    by_session = [
        json.loads(line) for line in export(seeded, "--session", "sess_live").splitlines()[1:]
    ]
    assert {r["data"]["id"] for r in by_session if r["kind"] == "session"} == {"sess_live"}
    assert {r["data"]["name"] for r in by_session if r["kind"] == "agent"} == {"planner"}
    memories = [r for r in by_session if r["kind"] == "memory"]
    assert len(memories) == len(STORABLE_STRINGS)
    assert "not found" in error_line(memtui("--db", seeded, "export", "--session", "nope"))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    skip_or_fail_without_postgres()
    with throwaway_database("memtui_transfer") as url:
        yield url


@pytest.mark.postgres
def test_round_trip_through_postgresql(seeded: str, postgres_url: str) -> None:
    first = export(seeded)
    ok(memtui("--db", postgres_url, "import", "-", stdin=first))
    assert export(postgres_url) == first
    again = json.loads(ok(memtui("--db", postgres_url, "import", "-", "--json", stdin=first)))
    assert again["added"] == 0


def test_export_and_import_over_memtui_serve(seeded: str, tmp_path: Path) -> None:
    first = export(seeded)
    with start_live_server(seeded) as source:
        over_http = ok(memtui("--server", source.url, "--api-key", source.api_key, "export"))
    assert over_http == first

    target = f"sqlite:///{tmp_path / 'target.db'}"
    with SqlStore(target):
        pass
    with start_live_server(target) as server:
        args = ("--server", server.url, "--api-key", server.api_key)
        report = json.loads(
            ok(memtui(*args, "import", "-", "--json", "--batch-size", "7", stdin=first))
        )
        assert report["added"] == len(first.splitlines()) - 1
        again = json.loads(ok(memtui(*args, "import", "-", "--json", stdin=first)))
        assert again["added"] == 0 and again["unchanged"] == report["added"]
    assert export(target) == first


def test_import_refuses_a_bad_batch_size(tmp_path: Path) -> None:
    message = error_line(
        memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", "-", "--batch-size", "0")
    )
    assert "--batch-size must be at least 1, got 0" in message


def test_export_refuses_agent_and_session_together(seeded: str) -> None:
    result = memtui("--db", seeded, "export", "--agent", "a", "--session", "s")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr.decode()


def test_session_status_is_the_stored_one(tmp_path: Path) -> None:
    """An expired session is exported as `active` with its expires_at: `expired` is
    computed from the clock, never stored."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    with SqlStore(url) as store:
        store.import_session(
            Session(
                id="sess_old",
                agent_id="a",
                status="active",
                created_at=store.now() - timedelta(days=2),
                updated_at=store.now() - timedelta(days=2),
                expires_at=store.now() - timedelta(days=1),
            )
        )
    records = [json.loads(line) for line in export(url).splitlines()[1:]]
    session = next(r["data"] for r in records if r["kind"] == "session")
    assert session["status"] == "active" and session["expires_at"]


# --- MemoryLayer's workspace export ----------------------------------------------------


def test_a_memorylayer_workspace_export_imports(
    memorylayer_server: MemoryLayerServer, tmp_path: Path
) -> None:
    """Memories written to a real memorylayer-server 0.2.0, exported by its own
    `GET /v1/workspaces/{id}/export`, arrive in memtui under the workspace as agent."""
    workspace = f"ws-import-{uuid.uuid4().hex[:8]}"
    base = memorylayer_server.url
    httpx.post(f"{base}/v1/workspaces", json={"id": workspace, "name": workspace}, timeout=30)
    headers = {"X-Workspace-ID": workspace}
    contents = ["[WIP] fix login", "uses \x1b]0;TITLE\x07 titles", "plain fact"]
    written = []
    for index, content in enumerate(contents):
        response = httpx.post(
            f"{base}/v1/memories",
            json={
                "content": content,
                "type": "semantic",
                "importance": 0.2 + 0.3 * index,
                "tags": ["t", f"n{index}"],
                "metadata": {"i": index},
                "workspace_id": workspace,
            },
            headers=headers,
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        written.append(response.json()["memory"])
    exported = httpx.get(f"{base}/v1/workspaces/{workspace}/export", headers=headers, timeout=60)
    assert exported.status_code == 200, exported.text
    path = tmp_path / "workspace.ndjson"
    path.write_bytes(exported.content)

    target = f"sqlite:///{tmp_path / 'target.db'}"
    report = json.loads(ok(memtui("--db", target, "import", str(path), "--json")))
    assert report["format"] == "memorylayer"
    assert report["added"] == len(contents)
    again = json.loads(ok(memtui("--db", target, "import", str(path), "--json")))
    assert again["added"] == 0 and again["unchanged"] == len(contents)

    # What the export says is what memtui keeps. (memorylayer-server 0.2.0's export
    # writes `metadata: {}` whatever the memory holds: its quirk, not memtui's loss.)
    exported_memories = [
        json.loads(line)["data"]
        for line in exported.text.splitlines()
        if json.loads(line)["type"] == "memory"
    ]
    assert {m["id"] for m in exported_memories} == {m["id"] for m in written}
    with SqlStore(target) as store:
        by_id = {m.id: m for m in store.list_memories(MemoryQuery(agent_id=workspace)).memories}
        for memory in exported_memories:
            stored = by_id[memory["id"]]
            assert stored.content == memory["content"]
            assert stored.memory_type == memory["type"] == "semantic"
            assert stored.agent_id == workspace
            assert stored.tags == memory["tags"]
            assert stored.importance == pytest.approx(memory["importance"])
            assert dt_to_json(stored.time) == dt_to_json(dt_from_json(memory["created_at"]))


def test_a_broken_memorylayer_export_line_is_named(tmp_path: Path) -> None:
    lines = [
        json.dumps({"type": "header", "version": "1.0", "workspace_id": "w"}),
        json.dumps({"type": "memory", "index": 0, "data": {"id": "m", "content": "x"}}),
        json.dumps({"type": "footer", "memories_exported": 1}),
    ]
    path = tmp_path / "w.ndjson"
    path.write_text("\n".join(lines) + "\n")
    message = error_line(memtui("--db", f"sqlite:///{tmp_path / 't.db'}", "import", str(path)))
    assert "line 2: memory: created_at is missing" in message


def test_a_bad_record_over_http_is_a_400_naming_it(seeded: str) -> None:
    with start_live_server(seeded) as server:
        response = httpx.post(
            f"{server.api_url}/import",
            headers=server.headers,
            json={
                "records": [
                    {"kind": "agent", "data": {"id": "a", "name": "a", "created_at": "x"}},
                ]
            },
            timeout=30,
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"].startswith("records.0: agent: created_at must be an RFC 3339 time")
        assert body.get("field") == "data.created_at"
        nothing = httpx.post(
            f"{server.api_url}/import", headers=server.headers, json={"records": []}, timeout=30
        )
        assert nothing.json() == {"added": 0, "unchanged": 0, "conflicts": []}
        health = httpx.get(f"{server.url}/health", timeout=30).json()
        assert "import" in health["features"]


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(seeded: str) -> None:
    """stderr on a pseudo-terminal gets the progress bar; stdout (a pipe) gets only
    the export, and a pipe on stderr gets nothing."""
    import select

    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "memtui", "--db", seeded, "export"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=dict(os.environ),
    )
    os.close(slave)
    out, _ = process.communicate(timeout=120)
    chunks: list[bytes] = []
    while select.select([master], [], [], 1)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    shown = b"".join(chunks).decode()
    assert process.returncode == 0
    assert "memtui export:" in shown and f"{len(STORABLE_STRINGS) + 1} memories" in shown
    assert out == export(seeded)  # the bar never reaches stdout
    assert memtui("--db", seeded, "export").stderr == b""
