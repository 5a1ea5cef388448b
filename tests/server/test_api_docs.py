"""docs/api.md documents exactly the routes a live `memtui serve` publishes.

Every route in `/openapi.json` needs its `### `METHOD /path`` section in docs/api.md,
and every section must name a route that exists, so the document cannot fall behind
when routes are added, renamed or removed.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.helpers.live_server import LiveServer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HEADING = re.compile(r"^### `(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*)`\s*$", re.M)


def documented_routes() -> list[tuple[str, str]]:
    return [(method, path) for method, path in HEADING.findall(DOCS.read_text("utf-8"))]


def published_routes(server: LiveServer) -> set[tuple[str, str]]:
    schema = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    }


def test_every_published_route_is_documented_and_nothing_else(server: LiveServer) -> None:
    documented = documented_routes()
    published = published_routes(server)
    assert len(documented) == len(set(documented)), "a route has two sections in docs/api.md"
    missing = sorted(published - set(documented))
    stale = sorted(set(documented) - published)
    assert not missing, f"routes in /openapi.json without a section in docs/api.md: {missing}"
    assert not stale, f"sections in docs/api.md for routes the server does not have: {stale}"


def test_the_readme_links_the_api_document_and_not_the_shared_one() -> None:
    readme = (DOCS.parents[1] / "README.md").read_text("utf-8")
    assert "(docs/api.md)" in readme
    assert "../shared" not in readme
