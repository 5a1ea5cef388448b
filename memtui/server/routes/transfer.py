"""Import (memtui): `POST /api/v1/import`, one batch of `memtui export` records.

`memtui import --server URL` sends a file's records here in batches; each request is
one transaction, all or nothing. Exports need no route: they read through the listing
routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from memtui.domain.errors import InvalidInputError
from memtui.domain.transfer import MAX_IMPORT_BATCH, parse_record
from memtui.server import schemas as s
from memtui.server.routes.common import ServerContext, ok


def extension_routes(router: APIRouter, ctx: ServerContext) -> None:
    backend = ctx.backend

    @router.post(
        "/import",
        response_model=s.ImportOut,
        summary="Store exported records exactly (ids, times, versions kept); all or nothing",
    )
    def import_records(body: s.ImportIn) -> Any:
        if len(body.records) > MAX_IMPORT_BATCH:
            raise InvalidInputError(
                f"records holds {len(body.records)} records; at most {MAX_IMPORT_BATCH} "
                "per request",
                field="records",
            )
        records = [
            parse_record(value, 0, where=f"records.{index}")
            for index, value in enumerate(body.records)
        ]
        outcome = backend.import_records(records)
        index_of = {id(record): index for index, record in enumerate(records)}
        return ok(
            {
                "added": outcome.added,
                "unchanged": outcome.unchanged,
                "conflicts": [
                    {"index": index_of[id(r)], "kind": r.kind.value, "key": list(r.key)}
                    for r in outcome.conflicts
                ],
            }
        )
