"""Undo for the TUI (`z`): the deletes made in this TUI, newest last, each undone by
restoring what it put in the trash (lazygit-style: a second `z` undoes the one before).

A delete is remembered by what it deleted; undoing finds the newest trash item of each
(an item restored or purged meanwhile is simply not found, and said so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from memtui.domain.errors import NotFoundError
from memtui.domain.history import Entity, TrashItem

if TYPE_CHECKING:
    from memtui.backend import Backend


@dataclass(frozen=True, slots=True)
class UndoEntry:
    entity: str  # memory, session, working_memory
    ids: tuple[str, ...]  # memory ids, a session id, a key
    session_id: str | None  # a key's session


def _matches(item: TrashItem, entry: UndoEntry, wanted: str) -> bool:
    if item.entity != entry.entity or item.entity_id != wanted:
        return False
    return entry.entity != Entity.WORKING_MEMORY or item.session_id == entry.session_id


def restore_entry(backend: Backend, entry: UndoEntry) -> list[TrashItem]:
    """Restores what `entry` deleted; the trash items restored. NotFoundError when none
    of it is in the trash any more."""
    items = backend.list_trash()  # newest first
    restored: list[TrashItem] = []
    for wanted in entry.ids:
        item = next((i for i in items if _matches(i, entry, wanted)), None)
        if item is not None:
            restored.append(backend.restore_from_trash(item.id))
    if not restored:
        raise NotFoundError("it is no longer in the trash (restored or purged meanwhile)")
    return restored
