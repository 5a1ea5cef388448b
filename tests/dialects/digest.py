"""The peers' OpenAPI digests (peer_openapi/*.txt) as data: which fields a real
server's response to a route must have, so raw shape tests can check memtui's answers
against them.

A digest section is `### METHOD /path  — Title` followed by `resp CODE: <json>` lines,
where the JSON is `{"ModelName": {"field*": type, ...}}`; a `*` marks a required field,
and a field's type may itself be a model (`{"Model": {...}}`) or a list of one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DIGESTS = Path(__file__).resolve().parent / "peer_openapi"
_SECTION = re.compile(r"^### (GET|POST|PUT|PATCH|DELETE) (\S+)", re.M)
_RESP = re.compile(r"^  resp (\d{3}): (.*)$", re.M)


def responses(digest: str) -> dict[tuple[str, str], dict[int, Any]]:
    """{(method, path): {status: parsed response JSON}} of one digest file."""
    text = (DIGESTS / digest).read_text("utf-8")
    found: dict[tuple[str, str], dict[int, Any]] = {}
    sections = list(_SECTION.finditer(text))
    for index, section in enumerate(sections):
        end = sections[index + 1].start() if index + 1 < len(sections) else len(text)
        body = text[section.end() : end]
        answers: dict[int, Any] = {}
        for resp in _RESP.finditer(body):
            try:
                answers[int(resp.group(1))] = json.loads(resp.group(2))
            except json.JSONDecodeError:
                answers[int(resp.group(1))] = None  # a line the digest cut short
        found[(section.group(1), section.group(2))] = answers
    return found


def _model_fields(value: Any) -> dict[str, Any] | None:
    """The fields of `{"Model": {fields}}`, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, dict):
            return inner
    return None


def missing_fields(declared: Any, actual: Any, where: str = "") -> list[str]:
    """The required fields of the declared model (and of required nested models, and
    of each item of required lists of models) that `actual` lacks."""
    fields = _model_fields(declared)
    if fields is None or not isinstance(actual, dict):
        return []
    missing: list[str] = []
    for name, kind in fields.items():
        required = name.endswith("*")
        key = name.rstrip("*")
        if key not in actual:
            if required:
                missing.append(f"{where}{key}")
            continue
        if isinstance(kind, list) and kind and isinstance(actual[key], list):
            for i, item in enumerate(actual[key]):
                missing += missing_fields(kind[0], item, f"{where}{key}.{i}.")
        else:
            missing += missing_fields(kind, actual[key], f"{where}{key}.")
    return missing


def success_model(digest: str, method: str, path: str) -> tuple[int, Any]:
    """The 2xx status and model a real server declares for a route."""
    answers = responses(digest)[(method, path)]
    ok = [code for code in answers if 200 <= code < 300]
    if not ok:
        return 204, None  # the digest declares no body (DELETE)
    return min(ok), answers[min(ok)]  # None: the digest cut the model short
