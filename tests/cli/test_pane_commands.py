"""The pane commands (`memtui memories`, `search`, `wm`, `snapshots`, `briefing`,
`extend`, `close`, `new`) as a user and a script run them: real subprocesses on a real
SQLite file, and against a real `memtui serve`. Hostile stored text is written exactly
into a pipe and made visible on a terminal; every error is one line on stderr, exit 2."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.hostile import deep_json_text
from tests.helpers.live_server import LiveServer, start_live_server

CLIP = "\x1b]52;c;aGk=\x07 clipboard"
TITLE_KEY = "\x1b]0;TITLE\x07key"
CLICK = "[ @click=app.quit]x"
C1_AND_BIDI = "csi \x9b2J and \u202eevil"


def memtui(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args],
        input=stdin.encode() if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        env=dict(os.environ),
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8")


def error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The one stderr line of a failed command (exit 2, nothing on stdout)."""
    stderr = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, stderr, result.stdout)
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert result.stdout == b""
    return stderr.strip()


def on_terminal(*args: str) -> str:
    """Run memtui with stdout on a pseudo-terminal; what the terminal received."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "memtui", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def build_store(db_url: str) -> dict[str, Any]:
    from memtui.domain.models import NewMemory, NewSnapshot
    from memtui.store import SqlStore

    store = SqlStore(db_url)
    try:
        session = store.create_session("claude", session_id="sess_a", workspace_id="w")
        store.create_session("claude", session_id="sess_b")
        store.close_session("sess_b")
        now = store.now()
        memories = [
            NewMemory(
                "claude",
                "[WIP] fix login",
                memory_type="decision",
                tags=["auth"],
                importance=0.9,
                session_id="sess_a",
                time=now - timedelta(hours=3),
            ),
            NewMemory("claude", CLIP, session_id="sess_a", time=now - timedelta(hours=2)),
            NewMemory(
                "claude",
                "line one\nline two",
                event_type="error",
                session_id="sess_a",
                time=now - timedelta(minutes=30),
            ),
            NewMemory("claude", C1_AND_BIDI, session_id="sess_a", time=now - timedelta(minutes=20)),
            NewMemory(
                "claude",
                "in the other session",
                session_id="sess_b",
                time=now - timedelta(minutes=10),
            ),
        ]
        store.add_memories(memories)
        store.set_working_memory("sess_a", "current_task", {"goal": "fix", "files": ["a.py"]})
        store.set_working_memory("sess_a", TITLE_KEY, "x\x1b[2Jy")
        store.create_snapshot(
            "sess_a",
            NewSnapshot(
                event="pre_compact",
                files_modified=["auth.py"],
                key_decisions=["rotate tokens"],
                open_tasks=[CLICK],
            ),
        )
        return {"session": session}
    finally:
        store.close()


@pytest.fixture
def store_url(sqlite_url: str) -> str:
    build_store(sqlite_url)
    return sqlite_url


# --- memories --------------------------------------------------------------------------


def test_memories_newest_first_with_the_timeline_filters(store_url: str) -> None:
    text = ok(memtui("memories", "sess_a", "--db", store_url))
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == 4
    assert blocks[0].splitlines()[1:] == [C1_AND_BIDI]  # newest first, exact in a pipe
    assert blocks[1].splitlines()[1:] == ["line one", "line two"]
    assert "event error" in blocks[1].splitlines()[0]
    assert blocks[2].splitlines()[1] == CLIP
    header = blocks[3].splitlines()[0]
    assert "decision" in header and "imp 0.9" in header and "tags auth" in header

    decisions = ok(memtui("memories", "sess_a", "type:decision", "--db", store_url))
    assert decisions.splitlines()[1] == "[WIP] fix login"
    # A negated word needs no `--`.
    others = ok(memtui("memories", "sess_a", "-type:decision", "since:4h", "--db", store_url))
    assert "[WIP] fix login" not in others and CLIP in others
    recent = ok(memtui("--db", store_url, "memories", "sess_a", "since:1h", "LINE"))
    assert recent.splitlines()[1:] == ["line one", "line two"]
    none = ok(memtui("memories", "sess_a", "tag:nope", "--db", store_url))
    assert none == "No memories of session sess_a match the filter.\n"


def test_memories_json_pages_and_agent_scope(store_url: str) -> None:
    first = json.loads(
        ok(memtui("memories", "sess_a", "--limit", "3", "--json", "--db", store_url))
    )
    assert first["count"] == 3 and first["has_more"] is True
    rest = json.loads(
        ok(
            memtui(
                "memories", "sess_a", "--json", "--after", first["next_cursor"], "--db", store_url
            )
        )
    )
    assert [m["content"] for m in rest["memories"]] == ["[WIP] fix login"]
    assert rest["has_more"] is False and rest["next_cursor"] is None
    agent = json.loads(ok(memtui("memories", "--agent", "claude", "--json", "--db", store_url)))
    assert agent["count"] == 5
    assert agent["memories"][0]["content"] == "in the other session"
    oldest = json.loads(
        ok(memtui("memories", "sess_a", "--order", "asc", "--json", "--db", store_url))
    )
    assert oldest["memories"][0]["content"] == "[WIP] fix login"
    text = memtui("memories", "sess_a", "--limit", "1", "--db", store_url)
    assert "more match" in text.stderr.decode() and "--after" in text.stderr.decode()


def test_json_output_is_exact_and_safe_on_a_screen(store_url: str) -> None:
    raw = memtui("memories", "sess_a", "--json", "--db", store_url).stdout
    # C1 controls and bidi overrides are escaped even inside JSON strings…
    assert b"\xc2\x9b" not in raw and "\u202e".encode() not in raw
    assert b"\\u009b" in raw and b"\\u202e" in raw
    # …and the value read back is exactly what was stored.
    contents = [m["content"] for m in json.loads(raw)["memories"]]
    assert C1_AND_BIDI in contents and CLIP in contents


def test_on_a_terminal_stored_escapes_are_shown_not_obeyed(store_url: str) -> None:
    screen = on_terminal("memories", "sess_a", "--db", store_url)
    assert "\x1b" not in screen and "\x9b" not in screen and "\u202e" not in screen
    assert "␛]52;c;aGk=␇ clipboard" in screen
    assert "csi <U+009B>2J and <U+202E>evil" in screen
    assert "line one\nline two" in screen  # a body keeps its lines
    wm = on_terminal("wm", "list", "sess_a", "--db", store_url)
    assert "\x1b" not in wm and "␛]0;TITLE␇key" in wm
    assert '"x\\u001b[2Jy"' in wm  # the value is JSON: its ESC is already escaped
    snapshots = on_terminal("snapshots", "sess_a", "--db", store_url)
    assert CLICK in snapshots and "\x1b" not in snapshots
    from memtui.store import SqlStore

    store = SqlStore(store_url)
    store.create_session("evil\x1b]0;TITLE\x07agent")
    store.close()
    sessions = on_terminal("sessions", "--db", store_url)
    assert "\x1b" not in sessions and "evil␛]0;TITLE␇agent" in sessions


ERROR_CASES = [
    (("memories", "sess_nope"), "sess_nope"),
    (("memories",), "give a SESSION, or --agent"),
    (("memories", "--agent", "nobody"), "nobody"),
    (("memories", "sess_a", "since:soon"), "since"),
    (("memories", "sess_a", "imp:high"), "imp"),
    (("memories", "sess_a", "--limit", "0"), "--limit"),
    (("memories", "sess_a", "--after", "garbage"), "cursor"),
    (("memories", "sess_a", "--bogus"), "unrecognized arguments: --bogus"),
    (("search",), "QUERY"),
    (("search", "  "), "query"),
    (("wm", "get", "sess_a", "nope"), "nope"),
    (("wm", "set", "sess_a"), "KEY"),
    (("wm", "rm", "sess_a", "nope"), "nope"),
    (("wm", "frobnicate", "sess_a"), "frobnicate"),
    (("snapshots", "sess_nope"), "sess_nope"),
    (("briefing", "--lookback", "soon"), "--lookback"),
    (("briefing", "--agent", "nobody"), "nobody"),
    (("extend", "sess_a", "forever"), "DURATION"),
    (("extend", "sess_nope"), "sess_nope"),
    (("close", "sess_nope"), "sess_nope"),
    (("new", "claude", "--ttl", "soon"), "--ttl"),
    (("new",), "AGENT"),
]


def test_errors_are_one_line_and_exit_2(store_url: str) -> None:
    """Every case a real subprocess; run a few at a time (each one is mostly start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda case: memtui(*case[0], "--db", store_url), ERROR_CASES))
    for (args, expected), result in zip(ERROR_CASES, results, strict=True):
        assert expected in error_line(result), args


def test_bad_store_is_one_line(tmp_path: Path) -> None:
    for command in (("memories", "s"), ("wm", "list", "s"), ("briefing",), ("new", "a")):
        line = error_line(memtui(*command, "--db", "bogus://"))
        assert "invalid database URL" in line


# --- search ----------------------------------------------------------------------------


def test_search(store_url: str) -> None:
    text = ok(memtui("search", "LOGIN", "--db", store_url))
    assert text.splitlines()[1] == "[WIP] fix login" and "session sess_a" in text.splitlines()[0]
    found = json.loads(ok(memtui("search", "session", "--json", "--db", store_url)))
    assert [m["content"] for m in found["memories"]] == ["in the other session"]
    assert found["method"]
    scoped = json.loads(
        ok(memtui("search", "session", "--session", "sess_a", "--json", "--db", store_url))
    )
    assert scoped["count"] == 0
    assert ok(memtui("search", "zzz", "--db", store_url)) == "No memory contains 'zzz'.\n"


# --- working memory --------------------------------------------------------------------


def test_wm_list_get_set_rm(store_url: str) -> None:
    table = ok(memtui("wm", "list", "sess_a", "--db", store_url)).splitlines()
    assert table[0].split() == ["KEY", "VERSION", "IMPORTANCE", "UPDATED", "VALUE"]
    assert any(line.startswith("current_task") and '{"goal": "fix"' in line for line in table)
    value = ok(memtui("wm", "get", "sess_a", "current_task", "--db", store_url))
    assert json.loads(value) == {"goal": "fix", "files": ["a.py"]}
    hostile = ok(memtui("wm", "get", "sess_a", TITLE_KEY, "--db", store_url))
    assert json.loads(hostile) == "x\x1b[2Jy"

    set_arg = ok(memtui("wm", "set", "sess_a", "n", "41", "--db", store_url))
    assert set_arg == "created n: version 1\n"
    piped = ok(
        memtui(
            "wm", "set", "sess_a", "n", "--expected-version", "1", "--db", store_url, stdin="42\n"
        )
    )
    assert piped == "updated n: version 2\n"
    dash = json.loads(
        ok(
            memtui(
                "wm",
                "set",
                "sess_a",
                "n",
                "-",
                "--importance",
                "0.9",
                "--json",
                "--db",
                store_url,
                stdin='{"deep": [1, {"x": null}]}',
            )
        )
    )
    assert dash["version"] == 3 and dash["importance"] == 0.9
    assert dash["value"] == {"deep": [1, {"x": None}]}

    stale = error_line(
        memtui("wm", "set", "sess_a", "n", "0", "--expected-version", "1", "--db", store_url)
    )
    assert "version 3" in stale and "not written" in stale
    bad = error_line(
        memtui("wm", "set", "sess_a", "n", "--db", store_url, stdin='{"a": 1,\n "b": }')
    )
    assert "line 2, column 7" in bad and "nothing was written" in bad
    unquoted = error_line(memtui("wm", "set", "sess_a", "n", "hello", "--db", store_url))
    assert "quoted as JSON" in unquoted
    too_deep = error_line(
        memtui("wm", "set", "sess_a", "n", "--db", store_url, stdin=deep_json_text(100_000))
    )
    assert "nested too deeply" in too_deep
    refused = error_line(
        memtui("wm", "set", "sess_a", "n", "--db", store_url, stdin=deep_json_text(65))
    )
    assert "64" in refused
    after = json.loads(ok(memtui("wm", "get", "sess_a", "n", "--json", "--db", store_url)))
    assert after["version"] == 3  # none of the refused writes touched it

    gone = error_line(
        memtui("wm", "rm", "sess_a", "n", "--expected-version", "2", "--db", store_url)
    )
    assert "not deleted" in gone
    assert ok(memtui("wm", "rm", "sess_a", "n", "--db", store_url)) == "deleted n\n"
    assert "n" not in [
        item["key"]
        for item in json.loads(ok(memtui("wm", "list", "sess_a", "--json", "--db", store_url)))[
            "items"
        ]
    ]


# --- snapshots, briefing, lifecycle ----------------------------------------------------


def test_snapshots(store_url: str) -> None:
    text = ok(memtui("snapshots", "sess_a", "--db", store_url)).splitlines()
    assert "pre_compact" in text[0]
    assert text[1:] == [
        "  files modified (1)",
        "    - auth.py",
        "  key decisions (1)",
        "    - rotate tokens",
        "  open tasks (1)",
        f"    - {CLICK}",
    ]
    data = json.loads(ok(memtui("snapshots", "sess_a", "--json", "--db", store_url)))
    assert data["count"] == 1 and data["snapshots"][0]["open_tasks"] == [CLICK]
    assert (
        ok(memtui("snapshots", "sess_b", "--db", store_url)) == "Session sess_b has no snapshots.\n"
    )


def test_briefing(store_url: str) -> None:
    text = ok(memtui("briefing", "--db", store_url))
    assert "Active sessions (1)" in text and "sess_a" in text
    assert "Open threads (1)" in text and CLICK in text
    assert "Recent activity, last 1d 0h (5)" in text
    data = json.loads(
        ok(
            memtui(
                "briefing", "--agent", "claude", "--lookback", "90m", "--json", "--db", store_url
            )
        )
    )
    assert data["agent_id"] == "claude"
    assert len(data["recent_activity"]) == 3
    assert data["active_sessions"][0]["seconds_left"] > 0


def test_new_extend_close(store_url: str) -> None:
    created = memtui("new", "codex", "--ttl", "2h", "--workspace", "repo", "--db", store_url)
    session_id = ok(created).strip()
    assert session_id.startswith("sess_")
    assert re.search(
        r"created session sess_\w+ for agent codex, expires .* \((2h 0m|1h 59m) left\)",
        created.stderr.decode(),
    )
    extended = ok(memtui("extend", session_id, "30m", "--db", store_url))
    assert extended.startswith(f"extended {session_id} by 30m 00s: expires")
    data = json.loads(ok(memtui("extend", session_id, "--json", "--db", store_url)))
    assert 8 * 3600 + 1700 < data["seconds_left"] <= 8 * 3600 + 1800  # 2h + 30m + 6h
    assert data["workspace_id"] == "repo"
    assert ok(memtui("close", session_id, "--db", store_url)) == f"closed {session_id}\n"
    again = memtui("close", session_id, "--json", "--db", store_url)
    assert json.loads(ok(again))["changed"] is False
    assert "already closed" in ok(memtui("close", session_id, "--db", store_url))
    forever = json.loads(ok(memtui("new", "codex", "--ttl", "never", "--json", "--db", store_url)))
    assert forever["expires_at"] is None and forever["time_left"] == "never"


# --- against a real memtui serve -------------------------------------------------------


@pytest.fixture
def server(store_url: str) -> Iterator[LiveServer]:
    with start_live_server(store_url) as running:
        yield running


def test_every_command_against_a_server(server: LiveServer) -> None:
    remote = ("--server", server.url, "--api-key", server.api_key)
    text = ok(memtui("memories", "sess_a", "type:decision", *remote))
    assert text.splitlines()[1] == "[WIP] fix login"
    assert CLIP.encode() in memtui("memories", "sess_a", *remote).stdout
    assert "[WIP] fix login" in ok(memtui("search", "login", *remote))
    assert ok(memtui("wm", "set", "sess_a", "k", '{"a": 1}', *remote)) == "created k: version 1\n"
    assert json.loads(ok(memtui("wm", "get", "sess_a", "k", *remote))) == {"a": 1}
    assert "deleted k" in ok(memtui("wm", "rm", "sess_a", "k", *remote))
    assert CLICK in ok(memtui("snapshots", "sess_a", *remote))
    assert "Open threads (1)" in ok(memtui("briefing", *remote))
    session_id = ok(memtui("new", "remote-agent", *remote)).strip()
    assert "extended" in ok(memtui("extend", session_id, "1h", *remote))
    assert f"closed {session_id}" in ok(memtui("close", session_id, *remote))
    missing = error_line(memtui("memories", "sess_nope", *remote))
    assert "sess_nope" in missing
    assert server.api_key not in missing
    wrong_key = error_line(
        memtui("memories", "sess_a", "--server", server.url, "--api-key", "mtk_wrong")
    )
    assert "mtk_wrong" not in wrong_key


def test_briefing_counts_the_whole_window(sqlite_url: str) -> None:
    """The briefing lists the newest 50 memories; the count and "… more" cover all 93
    of the last 24 h, not the 50 listed."""
    from memtui.domain.models import NewMemory
    from memtui.store import SqlStore

    store = SqlStore(sqlite_url)
    try:
        store.create_session("busy", session_id="sess_busy")
        now = store.now()
        store.add_memories(
            [
                NewMemory(
                    "busy", f"step {i}", session_id="sess_busy", time=now - timedelta(minutes=i)
                )
                for i in range(93)
            ]
        )
    finally:
        store.close()
    text = ok(memtui("briefing", "--db", sqlite_url))
    assert "Recent activity, last 1d 0h (93)" in text
    assert "… 73 more (--json shows the newest 50)" in text
    data = json.loads(ok(memtui("briefing", "--json", "--db", sqlite_url)))
    assert data["recent_activity_total"] == 93 and len(data["recent_activity"]) == 50
