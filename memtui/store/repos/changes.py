"""The change feed: every committed write appends its changes (memtui.store.engine);
readers follow it by cursor (live refresh, the server's event streams)."""

from __future__ import annotations

from sqlalchemy import func, select

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import Change
from memtui.store.engine import Database, Tx
from memtui.store.rows import MAX_VERSION, change_t


class ChangeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def latest_change_id(self) -> int:
        return self.db.read(
            lambda tx: int(tx.conn.execute(select(func.max(change_t.c.id))).scalar() or 0)
        )

    def changes_since(self, cursor: int, *, limit: int = 1000) -> list[Change]:
        if (
            isinstance(cursor, bool)
            or not isinstance(cursor, int)
            or not 0 <= cursor <= MAX_VERSION
        ):  # noqa: E501
            raise InvalidInputError(
                f"change cursor must be a whole number from 0 to {MAX_VERSION}, got {cursor!r}",
                field="after",
                value=cursor,
            )
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise InvalidInputError(
                f"cursor must be a whole number >= 0, got {cursor!r}", field="cursor"
            )
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(
                f"limit must be a positive integer, got {limit!r}", field="limit"
            )

        def op(tx: Tx) -> list[Change]:
            rows = tx.conn.execute(
                select(
                    change_t.c.id,
                    change_t.c.kind,
                    change_t.c.entity_id,
                    change_t.c.at,
                    change_t.c.agent_id,
                    change_t.c.session_id,
                    change_t.c.data,
                    change_t.c.actor,
                )
                .where(change_t.c.id > cursor)
                .order_by(change_t.c.id)
                .limit(limit)
            )
            return [Change(*r) for r in rows]

        return self.db.read(op)
