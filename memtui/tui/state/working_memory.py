"""What the working-memory pane knows, without its widgets.

The pane (memtui/tui/widgets/working_memory.py) owns the editor text; everything else
it decides with lives here: the session and its items, the version the editor is based
on, unsaved drafts of other sessions, what changed in the store meanwhile, and which
load is the latest. The rules this keeps:

- every save carries the version that was loaded, so a change elsewhere comes back as
  a conflict, never a silent overwrite;
- unsaved edits are never dropped: a reload that finds the key changed (or deleted)
  elsewhere marks it instead of replacing the text, and switching sessions keeps the
  edits as a draft that comes back on return;
- a result for another session, or from a load a newer one replaced, is ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from memtui.domain.models import CommitResult, WorkingMemoryItem
from memtui.domain.wording import plural
from memtui.tui.value_text import ValueText, value_text


def local_time(value: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Times are UTC inside memtui and shown in the user's local time."""
    return value.astimezone().strftime(fmt)


def describe_json_error(error: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"


def describe_commit(result: CommitResult, min_importance: float) -> str:
    """One line saying what a commit created, deduplicated and skipped."""
    parts = [f"Committed: {plural(result.memories_created, 'memory')} created"]
    if result.created_keys:
        parts[0] += f" ({', '.join(result.created_keys)})"
    parts.append(f"{result.memories_deduplicated} deduplicated")
    if result.deduplicated_keys:
        parts[-1] += f" ({', '.join(result.deduplicated_keys)})"
    parts.append(f"{len(result.skipped_keys)} skipped below importance {min_importance:g}")
    if result.skipped_keys:
        parts[-1] += f" ({', '.join(result.skipped_keys)})"
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Draft:
    """Unsaved edits kept while the user looks at another session."""

    base: WorkingMemoryItem
    text: str


class Reconciled(Enum):
    """What a reload found for the key the editor shows."""

    SAME = "same"  # same version: nothing to do
    RELOAD = "reload"  # a newer version, nothing unsaved: show it
    CHANGED_KEPT = "changed-kept"  # a newer version, edits unsaved: marked, kept
    DELETED = "deleted"  # deleted elsewhere, nothing unsaved: the editor clears
    DELETED_KEPT = "deleted-kept"  # deleted elsewhere, edits unsaved: marked, kept


class WorkingMemoryState:
    """The working-memory pane's state: plain data and the rules above."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.items: dict[str, WorkingMemoryItem] = {}
        self.loaded: WorkingMemoryItem | None = None  # the version the editor is based on
        self.loaded_text = ""  # its text as loaded (or as last saved)
        self.loaded_large: ValueText | None = None  # a value shown as a read-only preview
        self.texts: dict[tuple[str, int], ValueText] = {}  # formatted by the load worker
        self.store_item: WorkingMemoryItem | None = None  # newer store version, if any
        self.deleted_elsewhere = False
        self.drafts: dict[str, Draft] = {}  # session id -> unsaved edits
        self.generation = 0  # of the latest load
        self.supported: bool | None = None  # None: not known yet
        self._told_large: tuple[str, int] | None = None

    # --- what the editor shows ----------------------------------------------------------

    @property
    def loaded_key(self) -> str | None:
        return self.loaded.key if self.loaded else None

    def is_dirty(self, editor_text: str) -> bool:
        return self.loaded is not None and editor_text != self.loaded_text

    def dirty_key(self, editor_text: str) -> str | None:
        return self.loaded_key if self.is_dirty(editor_text) else None

    def clear_loaded(self) -> None:
        self.loaded = None
        self.loaded_text = ""
        self.loaded_large = None
        self.store_item = None
        self.deleted_elsewhere = False

    def open(self, item: WorkingMemoryItem) -> ValueText:
        """Base the editor on `item`; returns the text to show (a preview if large)."""
        shown = self.texts.get((item.key, item.version)) or value_text(item.value)
        self.loaded = item
        self.loaded_text = shown.text
        self.loaded_large = shown if shown.large else None
        self.store_item = None
        self.deleted_elsewhere = False
        return shown

    def first_time_large(self, item: WorkingMemoryItem) -> bool:
        """True once per key and version shown as a large preview (say why in full once)."""
        if self._told_large == (item.key, item.version):
            return False
        self._told_large = (item.key, item.version)
        return True

    # --- sessions and loads -------------------------------------------------------------

    def switch_session(self, session_id: str | None, editor_text: str) -> Draft | None:
        """Show another session; unsaved edits of this one become its draft (returned)."""
        stashed = None
        if self.session_id and self.loaded and self.is_dirty(editor_text):
            stashed = Draft(self.loaded, editor_text)
            self.drafts[self.session_id] = stashed
        self.session_id = session_id
        self.items = {}
        self.clear_loaded()
        return stashed

    def begin_load(self) -> int:
        """A new load of the session's items: an older one still running is stale."""
        self.generation += 1
        return self.generation

    def is_current(self, session_id: str, generation: int | None = None) -> bool:
        """Whether a result is for the session shown (and from the latest load)."""
        if session_id != self.session_id:
            return False
        return generation is None or generation == self.generation

    def apply_items(
        self, items: list[WorkingMemoryItem], texts: dict[tuple[str, int], ValueText]
    ) -> None:
        self.supported = True
        self.texts = texts
        self.items = {item.key: item for item in items}

    def reconcile(self, editor_text: str) -> Reconciled:
        """After a reload: another writer may have changed the key shown. Unsaved edits
        are kept and marked, so their save goes through the conflict flow."""
        assert self.loaded is not None
        dirty = self.is_dirty(editor_text)
        current = self.items.get(self.loaded.key)
        if current is None:
            if dirty:
                self.deleted_elsewhere = True
                self.store_item = None
                return Reconciled.DELETED_KEPT
            return Reconciled.DELETED
        self.deleted_elsewhere = False
        if current.version == self.loaded.version:
            self.store_item = None
            self.loaded = current
            return Reconciled.SAME
        if dirty:
            self.store_item = current
            return Reconciled.CHANGED_KEPT
        return Reconciled.RELOAD

    def take_draft(self) -> Draft | None:
        """The session's draft, if the user left unsaved edits in it."""
        if self.session_id is None:
            return None
        return self.drafts.pop(self.session_id, None)

    def mark_draft(self, draft: Draft) -> None:
        """A restored draft (after `open(draft.base)`): what changed in the store since."""
        current = self.items.get(draft.base.key)
        if current is None:
            self.deleted_elsewhere = True
        elif current.version != draft.base.version:
            self.store_item = current

    # --- writes ---------------------------------------------------------------------------

    def saved(self, item: WorkingMemoryItem, text: str) -> None:
        """`text` was saved as `item`: typing since then stays "modified"."""
        self.items[item.key] = item
        if self.loaded is not None and self.loaded.key == item.key:
            self.loaded = item
            self.loaded_text = text
            self.store_item = None
            self.deleted_elsewhere = False

    def conflict_kept(self, current: WorkingMemoryItem | None) -> None:
        """The user went on editing after a conflict: the next save asks again."""
        self.store_item = current
        self.deleted_elsewhere = current is None

    def updated(self, item: WorkingMemoryItem, *, sort: bool = False) -> None:
        """A write other than the editor's (importance, add): the editor text stays."""
        self.items[item.key] = item
        if sort:
            self.items = dict(sorted(self.items.items()))
        if self.loaded_key == item.key:
            self.loaded = item

    def renamed(self, old_key: str, item: WorkingMemoryItem) -> None:
        self.items.pop(old_key, None)
        self.items[item.key] = item
        self.items = dict(sorted(self.items.items()))
        if self.loaded_key == old_key:
            self.loaded = item  # the editor text (and any unsaved edit) stays

    def removed(self, key: str) -> bool:
        """Forget `key`; True if the editor showed it (the caller clears it)."""
        self.items.pop(key, None)
        return self.loaded_key == key

    # --- what may be done -------------------------------------------------------------------

    def not_ready(self, *, need_key: bool = False) -> str | None:
        """Why a key action cannot run now (None: it can)."""
        if self.session_id is None:
            return "Select a session first."
        if self.supported is False:
            return "This backend has no working memory."
        if need_key and self.loaded is None:
            return "Select a key first."
        return None

    def save_refused(self) -> str | None:
        """Why ctrl+s cannot save (None: it can, once the text parses as JSON)."""
        if self.session_id is None or self.loaded is None:
            return "Nothing to save: select a key or press a to add one."
        if self.loaded_large is not None:
            return (
                f"{self.loaded.key!r} is shown read-only ({self.loaded_large.size_label}). "
                "Press ctrl+e to edit it in $EDITOR."
            )
        return None


def expected_after_conflict(current: WorkingMemoryItem | None) -> int:
    """The version "keep mine" overwrites: the store's now (0: the key was deleted)."""
    return current.version if current is not None else 0
