"""Retention of history and trash: full history is kept for `history_retention_days`
(default 30; the config file's key, or MEMTUI_HISTORY_RETENTION_DAYS), then compacted
(each object keeps its newest change before the cutoff as the baseline of its later
history; deleted objects lose theirs), and trash items deleted before the cutoff are
purged with their history.

`memtui serve` runs it at start and every few hours (`RetentionWorker`);
`memtui history --compact` runs it once on a local store."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from memtui.domain.errors import InvalidInputError
from memtui.domain.history import DEFAULT_HISTORY_RETENTION_DAYS

if TYPE_CHECKING:
    from memtui.store.sql import SqlStore

log = logging.getLogger("memtui.store")

RETENTION_ENV = "MEMTUI_HISTORY_RETENTION_DAYS"
COMPACT_EVERY = timedelta(hours=6)


def retention_days(config: dict[str, object] | None = None) -> float:
    """The configured retention in days: the environment, else the config file, else 30."""
    raw: object = os.environ.get(RETENTION_ENV)
    if raw is None and config is not None:
        raw = config.get("history_retention_days")
    if raw is None:
        return float(DEFAULT_HISTORY_RETENTION_DAYS)
    try:
        days = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        days = -1.0
    if not days > 0:
        raise InvalidInputError(
            f"invalid history retention {raw!r}: a number of days above 0",
            field="history_retention_days",
            value=raw,
        )
    return days


def compact(store: SqlStore, days: float) -> tuple[int, int]:
    """One pass: (change rows compacted, trash items purged)."""
    return store.compact_history(store.now() - timedelta(days=days))


class RetentionWorker:
    """Compacts history and empties the trash past the retention, now and then."""

    def __init__(self, store: SqlStore, days: float) -> None:
        self.store = store
        self.days = days
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and not self.store.read_only:
            self._thread = threading.Thread(target=self._run, name="memtui-retention", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                changes, items = compact(self.store, self.days)
                if changes or items:
                    log.info(
                        "retention: compacted %d changes, purged %d trash items", changes, items
                    )
            except Exception:  # noqa: BLE001 - retention must never stop the server
                log.exception("retention pass failed; trying again later")
            self._stop.wait(COMPACT_EVERY.total_seconds())
