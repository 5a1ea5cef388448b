"""Auth, error shapes, body limits and secrets in logs, over raw HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest


def test_every_route_but_health_needs_a_key(server: Any) -> None:
    for method, path in [
        ("GET", "/api/v1/sessions"),
        ("POST", "/api/v1/memories"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/no-such-route"),
        ("DELETE", "/api/v1/sessions/sess_x"),
    ]:
        response = httpx.request(method, server.url + path)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"error": "missing API key"}
    wrong = httpx.get(server.url + "/api/v1/sessions", headers={"x-api-key": "mtk_wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid API key"}
    not_ours = httpx.get(server.url + "/api/v1/sessions", headers={"x-api-key": "sk-other"})
    assert not_ours.json() == {"error": "invalid API key"}
    assert httpx.get(server.url + "/health").status_code == 200


def test_bearer_token_works_like_x_api_key(server: Any) -> None:
    response = httpx.get(
        server.url + "/api/v1/sessions", headers={"Authorization": f"Bearer {server.api_key}"}
    )
    assert response.status_code == 200
    wrong = httpx.get(server.url + "/api/v1/sessions", headers={"Authorization": "Bearer mtk_nope"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid API key"}


def test_auth_comes_before_body_validation(server: Any) -> None:
    response = httpx.post(server.url + "/api/v1/memories", content=b"{not json")
    assert response.status_code == 401


def test_a_revoked_key_is_refused(server: Any) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "memtui", "keys", "--db", server.db_url, "create", "--name", "temp"],
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    key_id = created.stdout.split()[3].rstrip(".")
    headers = {"x-api-key": key}
    assert httpx.get(server.url + "/api/v1/sessions", headers=headers).status_code == 200
    subprocess.run(
        [sys.executable, "-m", "memtui", "keys", "--db", server.db_url, "revoke", key_id],
        capture_output=True,
        check=True,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = httpx.get(server.url + "/api/v1/sessions", headers=headers)
        if response.status_code == 401:
            break
        time.sleep(0.2)
    assert response.status_code == 401 and response.json() == {"error": "invalid API key"}


def test_errors_never_use_fastapis_detail_shape(api: httpx.Client) -> None:
    cases = [
        api.get("/nowhere"),
        api.delete("/memories"),
        api.post("/sessions", content=b"[1, 2", headers={"content-type": "application/json"}),
        api.post("/sessions", json={"agent_id": 42}),
        api.post("/sessions", json=[]),
        api.post("/search", json={"limit": "ten"}),
        api.put("/sessions/sess_x", json={"status": "closed"}),
        api.post("/memories", json="just a string"),
        api.post("/memories", content=b""),
    ]
    statuses = [r.status_code for r in cases]
    assert statuses == [404, 405, 400, 400, 400, 400, 404, 400, 400]
    for response in cases:
        body = response.json()
        assert isinstance(body["error"], str) and body["error"]
        assert "detail" not in body
    assert "JSON" in cases[2].json()["error"]
    assert cases[3].json()["field"] == "agent_id"
    assert cases[5].json()["field"] == "limit"
    assert httpx.get(api.base_url.copy_with(path="/nowhere")).status_code == 404


def test_bodies_over_the_limit_get_413(api: httpx.Client) -> None:
    big = b'{"agent_id": "a", "content": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}'
    response = api.post("/memories", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "error" in response.json()

    def chunks() -> Iterator[bytes]:  # no content-length: chunked transfer encoding
        yield b'{"agent_id": "a", "content": "'
        for _ in range(6):
            yield b"y" * (1024 * 1024)
        yield b'"}'

    chunked = api.post("/memories", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and "error" in chunked.json()
    fine = api.post("/memories", json={"agent_id": "a", "content": "z" * 100_000})
    assert fine.status_code == 201


def test_openapi_describes_routes_errors_and_security(server: Any) -> None:
    schema = httpx.get(server.url + "/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/memories",
        "/api/v1/search",
        "/api/v1/sessions/{session_id}/context",
        "/api/v1/sessions/{session_id}/working-memory/{key}",
        "/api/v1/events",
    ):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"apiKey", "http"}
    operation = paths["/api/v1/memories"]["post"]
    assert {"201", "400", "401", "413", "500"} <= set(operation["responses"])
    assert "422" not in operation["responses"]
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert operation["security"]


def test_keys_and_tokens_never_reach_the_log(start_server: Any) -> None:
    live = start_server()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXZhbHVl"
    with live.client() as api:
        api.get("/sessions")
        api.post("/sessions", json={"agent_id": "a", "metadata": {"token": jwt}})
        api.get("/sessions", headers={"Authorization": f"Bearer {live.api_key}"})
        # A key put in the URL by mistake is masked too.
        api.get(f"/memories?api_key={live.api_key}&token={jwt}")
        httpx.get(f"{live.url}/api/v1/sessions?x={live.api_key}", headers={"x-api-key": "mtk_bad"})
        api.get(f"/sessions/{live.api_key}")
    output = live.output()
    assert "GET /api/v1/sessions" in output  # the log is there...
    assert live.api_key not in output  # ...without the key
    assert live.api_key[4:20] not in output
    assert jwt not in output and jwt[:30] not in output
    assert "mtk_bad" not in output


def test_unhandled_errors_are_a_generic_500_without_traceback(api: httpx.Client) -> None:
    # A value the store cannot take (too deep to serialise) must not leak internals.
    deep = "[" * 5000 + '"x"' + "]" * 5000
    response = api.post(
        "/sessions",
        content=f'{{"agent_id": "a", "metadata": {{"deep": {deep}}}}}'.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 500)
    body = response.json()
    assert "Traceback" not in body["error"] and "detail" not in body


def test_port_in_use_is_one_clear_line(tmp_path: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "memtui",
                "serve",
                "--db",
                f"sqlite:///{tmp_path}/p.db",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("db", ["nosuchdb://x", "sqlite:////proc/forbidden/dir/x.db"])
def test_bad_db_is_one_clear_line(db: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memtui", "serve", "--db", db, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("memtui: cannot open the store")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
