"""Versioned schema migrations.

`SCHEMA_VERSION` in tables.py is the version this memtui writes. Opening a store with
an older version runs, in order, each step from STEPS whose key is above the stored
version, inside the same transaction that records the new version: either the whole
upgrade happens or none of it. Version 1 is the first released schema, so there are no
steps yet; issue 5 adds them here (one function per version, dialect-aware if needed).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from memtui.domain.errors import BackendUnavailableError

MigrationStep = Callable[[Connection, str], None]

# version -> step that upgrades a store from version - 1 to version
STEPS: dict[int, MigrationStep] = {}


def migrate(conn: Connection, found: int, target: int, *, dialect: str) -> None:
    for version in range(found + 1, target + 1):
        step = STEPS.get(version)
        if step is None:
            raise BackendUnavailableError(
                f"no migration from schema version {version - 1} to {version}"
            )
        step(conn, dialect)
