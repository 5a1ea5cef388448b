"""`session.expired` entries in the change feed.

Expiry is driven by time, not by a write, so no transaction records it. The server runs
an ExpiryWatcher: a small thread that, a few times a second, finds active sessions
whose `expires_at` has passed since it last looked and appends a `session.expired`
change for each. It appends through the store's own transaction machinery, so ids stay
monotonic and PostgreSQL's change-feed lock is honoured, and it reads the sessions in
the same write transaction, so a session extended at that moment is not reported.

The watermark starts at the newest `session.expired` change already in the feed (or,
on a feed without one, at the newest change of any kind), so a restarted server reports
the sessions that expired while it was down, and nothing twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import and_, desc, select

from memtui.domain.models import ChangeKind
from memtui.store.engine import Database, Tx
from memtui.store.rows import SESSION_COLUMNS, change_t, session_from, session_t

log = logging.getLogger("memtui.store.expiry")

DEFAULT_INTERVAL_SECONDS = 0.25


class ExpiryWatcher:
    def __init__(self, db: Database, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self.db = db
        self.interval = interval
        self._watermark: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _initial_watermark(self) -> datetime:
        def op(tx: Tx) -> datetime:
            last = tx.conn.execute(
                select(change_t.c.at)
                .where(change_t.c.kind == ChangeKind.SESSION_EXPIRED.value)
                .order_by(desc(change_t.c.id))
                .limit(1)
            ).scalar()
            if last is None:
                last = tx.conn.execute(
                    select(change_t.c.at).order_by(desc(change_t.c.id)).limit(1)
                ).scalar()
            return last if last is not None else tx.now

        return self.db.read(op)

    def emit_due(self) -> int:
        """Appends `session.expired` for every session that expired since the last
        call; returns how many."""
        if self._watermark is None:
            self._watermark = self._initial_watermark()
        since = self._watermark

        def due(tx: Tx) -> list[object]:
            return list(
                tx.conn.execute(
                    select(*SESSION_COLUMNS)
                    .where(
                        and_(
                            session_t.c.status == "active",
                            session_t.c.expires_at.is_not(None),
                            session_t.c.expires_at > since,
                            session_t.c.expires_at <= tx.now,
                        )
                    )
                    .order_by(session_t.c.expires_at, session_t.c.id)
                ).all()
            )

        # A cheap read first: most ticks find nothing and must not take the write lock.
        def peek(tx: Tx) -> tuple[bool, datetime]:
            return bool(due(tx)), tx.now

        found, now = self.db.read(peek)
        if not found:
            self._watermark = max(since, now)
            return 0

        def op(tx: Tx) -> tuple[int, datetime]:
            rows = due(tx)
            for row in rows:
                session = session_from(row)  # type: ignore[arg-type]
                tx.emit(
                    ChangeKind.SESSION_EXPIRED,
                    session.id,
                    agent_id=session.agent_id,
                    session_id=session.id,
                    data=session.to_json(tx.now),
                )
            return len(rows), max(since, tx.now)

        count, self._watermark = self.db.write(op)
        return count

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.emit_due()
            except Exception as exc:  # noqa: BLE001 - keep watching; the store may recover
                log.warning("expiry watcher: %s", exc)

    def start(self) -> ExpiryWatcher:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="memtui-expiry-watcher", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
