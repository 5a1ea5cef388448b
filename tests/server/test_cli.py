"""`memtui keys create|list|revoke` and the first start's admin key, as subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from memtui.config import mask_secret
from tests.helpers.live_server import LiveServer, free_port

KEY_PATTERN = re.compile(r"mtk_[A-Za-z0-9_\-]{43}=")


def memtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args], capture_output=True, text=True, timeout=60
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    assert "No API keys yet" in memtui("keys", "--db", db, "list").stdout

    created = memtui("keys", "--db", db, "create", "--name", "ci bot")
    assert created.returncode == 0
    key = created.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.fullmatch(key), key  # mtk_ + 32 random bytes, URL-safe base64
    assert "will NOT be shown again" in created.stdout
    key_id = re.search(r"key_[0-9a-f]+", created.stdout).group(0)  # type: ignore[union-attr]

    listed = memtui("keys", "--db", db, "list")
    assert listed.returncode == 0
    assert key not in listed.stdout and key[4:12] not in listed.stdout.replace(mask_secret(key), "")
    row = next(line for line in listed.stdout.splitlines() if key_id in line)
    assert "ci bot" in row and mask_secret(key) in row and "never" in row and "active" in row

    revoked = memtui("keys", "--db", db, "revoke", key_id)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    listed_again = memtui("keys", "--db", db, "list").stdout
    row = next(line for line in listed_again.splitlines() if key_id in line)
    assert "revoked" in row

    unknown = memtui("keys", "--db", db, "revoke", "key_nope")
    assert unknown.returncode == 2 and "key_nope" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_only_hashes_are_stored(tmp_path: Path) -> None:
    path = tmp_path / "hash.db"
    key = memtui("keys", "--db", f"sqlite:///{path}", "create").stdout.strip().splitlines()[-1]
    import sqlite3

    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT key_hash, prefix FROM api_key").fetchall()
    assert len(rows) == 1
    key_hash, prefix = rows[0]
    assert key not in key_hash and len(key_hash) == 64 and prefix == mask_secret(key)
    assert key.encode() not in path.read_bytes()


def test_first_start_prints_an_admin_key_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    server = LiveServer(db, api_key="", port=free_port())
    server.start()
    try:
        printed = KEY_PATTERN.findall(server.output())
        assert len(printed) == 1 and "will NOT be shown again" in server.output()
        admin_key = printed[0]
        ok = httpx.get(f"{server.api_url}/sessions", headers={"x-api-key": admin_key})
        assert ok.status_code == 200
        server.restart()
        assert KEY_PATTERN.findall(server.output()) == printed  # not printed again
        assert "admin" in memtui("keys", "--db", db, "list").stdout
    finally:
        server.stop()


def test_serve_has_no_plain_memtrace_mode() -> None:
    """The plain Memtrace stand-in is a test helper (tests/helpers/plain_memtrace.py),
    not a hidden mode of the product."""
    result = memtui("serve", "--help")
    assert result.returncode == 0
    assert "--port" in result.stdout and "plain-memtrace" not in result.stdout
    refused = memtui("serve", "--plain-memtrace", "--port", "0")
    assert refused.returncode == 2 and "--plain-memtrace" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_live_server_helper_restart_keeps_port_and_data(start_server: Any) -> None:
    live = start_server()
    with live.client() as api:
        created = api.post("/sessions", json={"agent_id": "a"}).json()
    port = live.port
    live.restart()
    assert live.port == port
    with live.client() as api:
        assert api.get(f"/sessions/{created['id']}").status_code == 200


def test_the_listening_socket_lets_asyncio_disable_nagle() -> None:
    import socket

    from memtui.commands.serve import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        # asyncio sets TCP_NODELAY on accepted connections only when proto says TCP;
        # without it each response waited ~40 ms for delayed ACKs.
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
