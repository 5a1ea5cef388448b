"""History: every create, update and delete of a memory, a working-memory key, a session
or a snapshot, as revisions with a time, an actor, and the object before and after.

A store keeps its append-only change feed (`Change`: the object's JSON after each
change, and the actor who made it); a revision's `before` is the previous revision's
`after` of the same object, so nothing is stored twice. `revisions_from_changes` turns
one object's changes into revisions, `state_at` replays a session's memory changes to
a time (the context as of then), and `json_diff` / `word_diff` say what a revision
changed, for a reader. Pure: no I/O, no UI.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from memtui.domain.errors import InvalidInputError
from memtui.domain.models import Change, ChangeKind, dt_from_json, dt_to_json

DEFAULT_HISTORY_RETENTION_DAYS = 30


class Entity(StrEnum):
    MEMORY = "memory"
    SESSION = "session"
    WORKING_MEMORY = "working_memory"
    SNAPSHOT = "snapshot"


# Fields of a working-memory change's data that describe the operation, not the item.
_WM_OPERATION_FIELDS = ("op", "old_key")


@dataclass(frozen=True, slots=True)
class HistoryTarget:
    """Whose history: a memory, a session, a session's working-memory key, a snapshot."""

    entity: str
    id: str
    session_id: str | None = None  # for a working-memory key

    @classmethod
    def memory(cls, memory_id: str) -> HistoryTarget:
        return cls(Entity.MEMORY.value, memory_id)

    @classmethod
    def session(cls, session_id: str) -> HistoryTarget:
        return cls(Entity.SESSION.value, session_id)

    @classmethod
    def key(cls, session_id: str, key: str) -> HistoryTarget:
        return cls(Entity.WORKING_MEMORY.value, key, session_id)

    @classmethod
    def snapshot(cls, snapshot_id: str) -> HistoryTarget:
        return cls(Entity.SNAPSHOT.value, snapshot_id)

    def describe(self) -> str:
        if self.entity == Entity.WORKING_MEMORY:
            return f"working-memory key {self.id!r} of session {self.session_id!r}"
        return f"{self.entity} {self.id!r}"

    def check(self) -> None:
        if self.entity not in {e.value for e in Entity}:
            raise InvalidInputError(
                f"unknown history entity {self.entity!r}: use memory, session, "
                "working_memory or snapshot",
                field="entity",
                value=self.entity,
            )
        if not isinstance(self.id, str) or not self.id:
            raise InvalidInputError("a history needs an id", field="id", value=self.id)
        if self.entity == Entity.WORKING_MEMORY and not self.session_id:
            raise InvalidInputError(
                "a working-memory key's history needs its session", field="session_id"
            )


def entity_of(kind: str) -> str:
    """`memory.updated` -> `memory`; `working_memory.changed` -> `working_memory`."""
    return kind.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Revision:
    """One change of one object: when, by whom, what it did, the object before and after
    (None before its creation and after its deletion)."""

    change_id: int
    at: datetime
    actor: str | None
    entity: str
    entity_id: str
    action: str  # created, updated, deleted, expired, renamed, restored
    session_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "at": dt_to_json(self.at),
            "actor": self.actor,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "action": self.action,
            "session_id": self.session_id,
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Revision:
        return cls(
            change_id=int(data["change_id"]),
            at=dt_from_json(data["at"]),  # type: ignore[arg-type]
            actor=data.get("actor"),
            entity=str(data["entity"]),
            entity_id=str(data["entity_id"]),
            action=str(data["action"]),
            session_id=data.get("session_id"),
            before=data.get("before"),
            after=data.get("after"),
        )


def _wm_item(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: v for k, v in data.items() if k not in _WM_OPERATION_FIELDS}


def _action(change: Change) -> str:
    kind = change.kind
    if kind == ChangeKind.WORKING_MEMORY_CHANGED:
        op = (change.data or {}).get("op")
        return {"set": "updated", "delete": "deleted", "rename": "renamed"}.get(str(op), "updated")
    return kind.split(".", 1)[1] if "." in kind else kind


def revisions_from_changes(target: HistoryTarget, changes: Iterable[Change]) -> list[Revision]:
    """`target`'s revisions, oldest first, from its changes (oldest first; for a key,
    its session's working-memory changes: renames to and from it count)."""
    revisions: list[Revision] = []
    current: dict[str, Any] | None = None
    for change in changes:
        data = change.data
        action = _action(change)
        if target.entity == Entity.WORKING_MEMORY:
            old_key = (data or {}).get("old_key")
            if change.entity_id == target.id:
                item = _wm_item(data)
                if action == "renamed":
                    action = "renamed_from"  # this key came from old_key
                    before = None
                elif action == "deleted":
                    before, item = current or item, None
                else:
                    before = current
                    if before is None and isinstance(item, dict) and item.get("version", 1) == 1:
                        action = "created"
            elif old_key == target.id and action == "renamed":
                action, before, item = "renamed_to", current, None
            else:
                continue
            after = item
        else:
            if change.entity_id != target.id or entity_of(change.kind) != target.entity:
                continue
            before = current
            if action == "deleted":
                # A delete records the object as it was (stores before schema 5: its id).
                full = data if data and len(data) > 1 else None
                before, after = current or full, None
            elif action == "expired":
                after = data if data else current
            else:
                after = data
        revisions.append(
            Revision(
                change_id=change.id,
                at=change.at,
                actor=change.actor,
                entity=target.entity,
                entity_id=target.id,
                action=action,
                session_id=change.session_id,
                before=before,
                after=after,
            )
        )
        current = after
    return revisions


def state_at(changes: Iterable[Change], at: datetime) -> dict[str, dict[str, Any]]:
    """Replay memory changes (oldest first) up to and including `at`: the memories that
    existed then, id -> their JSON."""
    state: dict[str, dict[str, Any]] = {}
    for change in changes:
        if change.at > at:
            break
        if entity_of(change.kind) != Entity.MEMORY:
            continue
        if change.kind == ChangeKind.MEMORY_DELETED:
            state.pop(change.entity_id, None)
        elif change.data is not None:
            state[change.entity_id] = change.data
    return state


# --- diffs ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A value that a revision added, removed or changed, at a JSON path."""

    path: str  # `content`, `metadata.owner`, `value.items[2]`
    op: str  # added, removed, changed
    before: Any = None
    after: Any = None


def json_diff(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """What differs between two JSON values, object keys recursively (sorted), lists
    item by item; empty when they are equal."""
    if before == after and type(before) is type(after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(before) | set(after), key=str):
            inner = f"{path}.{key}" if path else str(key)
            if key not in before:
                changes.append(FieldChange(inner, "added", after=after[key]))
            elif key not in after:
                changes.append(FieldChange(inner, "removed", before=before[key]))
            else:
                changes.extend(json_diff(before[key], after[key], inner))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            inner = f"{path}[{index}]"
            if index >= len(before):
                changes.append(FieldChange(inner, "added", after=after[index]))
            elif index >= len(after):
                changes.append(FieldChange(inner, "removed", before=before[index]))
            else:
                changes.extend(json_diff(before[index], after[index], inner))
        return changes
    return [FieldChange(path or "(value)", "changed", before=before, after=after)]


_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True, slots=True)
class WordSpan:
    op: str  # same, removed, added
    text: str


def word_diff(before: str, after: str) -> list[WordSpan]:
    """`before` -> `after` word by word (whitespace kept as it is): the spans to show,
    in order; joining the `same` and `added` spans gives `after`, the `same` and
    `removed` ones give `before`."""
    old = _WORDS.findall(before)
    new = _WORDS.findall(after)
    spans: list[WordSpan] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.append(WordSpan("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            spans.append(WordSpan("removed", "".join(old[i1:i2])))
        if j2 > j1:
            spans.append(WordSpan("added", "".join(new[j1:j2])))
    return spans


# The field a reader cares most about, diffed word by word: memory content, snapshot
# text fields have none (JSON diff only).
TEXT_FIELDS = {Entity.MEMORY.value: "content"}


def revision_changes(revision: Revision) -> tuple[list[WordSpan] | None, list[FieldChange]]:
    """What a revision changed: a word diff of the object's text (a memory's content)
    when it changed, and a JSON diff of every other field."""
    before = revision.before or {}
    after = revision.after or {}
    text_field = TEXT_FIELDS.get(revision.entity)
    words: list[WordSpan] | None = None
    if (
        text_field
        and isinstance(before.get(text_field), str)
        and isinstance(after.get(text_field), str)
        and before[text_field] != after[text_field]
    ):
        words = word_diff(before[text_field], after[text_field])
        before = {k: v for k, v in before.items() if k != text_field}
        after = {k: v for k, v in after.items() if k != text_field}
    if revision.before is None or revision.after is None:
        return words, []
    return words, json_diff(before, after)


def memories_of_session(changes: Sequence[Change], session_id: str) -> list[Change]:
    """The memory changes of one session, oldest first."""
    return [
        change
        for change in changes
        if entity_of(change.kind) == Entity.MEMORY and change.session_id == session_id
    ]


# --- trash ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrashItem:
    """A deleted memory, session or working-memory key, restorable as it was: `data` is
    its JSON (a session's holds its working memory and snapshots too)."""

    id: int
    entity: str  # memory, session, working_memory
    entity_id: str  # a memory's or session's id, a key
    session_id: str | None
    agent_id: str | None
    deleted_at: datetime
    actor: str | None
    data: dict[str, Any]

    @property
    def summary(self) -> str:
        """One line a reader recognises it by (stored text: show it with care)."""
        if self.entity == Entity.MEMORY:
            return str(self.data.get("content") or "")
        if self.entity == Entity.WORKING_MEMORY:
            value = json.dumps(self.data.get("value"), ensure_ascii=False)
            return f"{self.entity_id} = {value}"
        wm = self.data.get("working_memory") or []
        snapshots = self.data.get("snapshots") or []
        return f"{self.data.get('agent_id') or ''}, {len(wm)} keys, {len(snapshots)} snapshots"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "deleted_at": dt_to_json(self.deleted_at),
            "actor": self.actor,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrashItem:
        return cls(
            id=int(data["id"]),
            entity=str(data["entity"]),
            entity_id=str(data["entity_id"]),
            session_id=data.get("session_id"),
            agent_id=data.get("agent_id"),
            deleted_at=dt_from_json(data["deleted_at"]),  # type: ignore[arg-type]
            actor=data.get("actor"),
            data=dict(data.get("data") or {}),
        )


def describe_trash_item(item: TrashItem) -> str:
    """`memory mem_1`, `session sess_1`, `key plan of sess_1`: what an undo restored."""
    if item.entity == Entity.WORKING_MEMORY:
        return f"working-memory key {item.entity_id!r} of {item.session_id!r}"
    return f"{item.entity} {item.entity_id!r}"
