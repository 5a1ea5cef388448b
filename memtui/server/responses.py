"""JSON responses that any stored value can be written into.

Stored JSON values may hold lone surrogates (`"\\ud800"` is valid JSON and is kept
exactly), which UTF-8 cannot encode: such a body is written with ASCII escapes instead,
so the client still gets exactly what was stored. A value too deep to serialise (never
from the store, which cuts what it reads: defence in depth) is cut the same way.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from memtui.domain.safe_json import clip_depth

_COMPACT: dict[str, Any] = {"allow_nan": False, "separators": (",", ":")}


def dumps_for_client(content: Any) -> bytes:
    """Compact UTF-8 JSON; ASCII-escaped when the content holds lone surrogates."""
    try:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")
    except RecursionError:
        return dumps_for_client(clip_depth(content))


class StoredDataJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps_for_client(content)
