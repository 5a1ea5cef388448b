"""The user's keymap: remap any key binding by its id in the config file.

`~/.config/memtui/config.json` (see `memtui.config`) may hold

    {"keymap": {"working-memory-save": "ctrl+w", "quit": "q,ctrl+x"}}

mapping a binding id to one key or several, comma-separated (Textual's key names:
`ctrl+s`, `f2`, `question_mark`, `A`…). The app applies it with Textual's
`App.set_keymap`. `BINDINGS` below lists every binding id of memtui's TUI with its
default keys (a test keeps it equal to the widgets' `BINDINGS`), so an unknown id or a
key that is no key is said in one line at start, and the help (F1) lists them all;
pane modules need not be imported to check a keymap.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BindingInfo:
    id: str
    keys: str  # the default, as in the widget's Binding
    area: str  # where it works
    description: str


BINDINGS: tuple[BindingInfo, ...] = (
    BindingInfo("quit", "q", "Everywhere", "Quit"),
    BindingInfo("quit-now", "ctrl+q", "Everywhere", "Quit, even from a dialog"),
    BindingInfo("help", "f1", "Everywhere", "Help"),
    BindingInfo("help-question-mark", "question_mark", "Everywhere", "Help"),
    BindingInfo("leave-pane", "escape", "Everywhere", "Leave a field; back to the session list"),
    BindingInfo("refresh", "r", "Everywhere", "Reload everything"),
    BindingInfo("undo", "z", "Everywhere", "Undo the last delete made here"),
    BindingInfo("trash", "Z", "Everywhere", "Show the trash"),
    BindingInfo("tab-timeline", "1", "Everywhere", "Show the Timeline"),
    BindingInfo("tab-working-memory", "2", "Everywhere", "Show Working memory"),
    BindingInfo("tab-context", "3", "Everywhere", "Show the Context"),
    BindingInfo("tab-snapshots", "4", "Everywhere", "Show Snapshots"),
    BindingInfo("tab-briefing", "5", "Everywhere", "Show the Briefing"),
    BindingInfo("list-up", "k", "Every list", "Up"),
    BindingInfo("list-down", "j", "Every list", "Down"),
    BindingInfo("list-first", "home,g", "Every list", "First"),
    BindingInfo("list-last", "end,G", "Every list", "Last"),
    BindingInfo("session-new", "n", "Session list", "New"),
    BindingInfo("session-extend", "e", "Session list", "Extend +6h"),
    BindingInfo("session-extend-by", "E", "Session list", "Extend by…"),
    BindingInfo("session-close", "c", "Session list", "Close"),
    BindingInfo("session-reopen", "o", "Session list", "Reopen"),
    BindingInfo("session-delete", "delete,D", "Session list", "Delete"),
    BindingInfo("session-history", "h", "Session list", "History"),
    BindingInfo("session-filter", "slash", "Session list", "Filter"),
    BindingInfo("session-sort-left", "T", "Session list", "Sort: time left"),
    BindingInfo("session-sort-agent", "A", "Session list", "Sort: agent"),
    BindingInfo("session-sort-status", "S", "Session list", "Sort: status"),
    BindingInfo("session-sort-created", "C", "Session list", "Sort: created"),
    BindingInfo("timeline-up", "up,k", "Timeline", "Up"),
    BindingInfo("timeline-down", "down,j", "Timeline", "Down"),
    BindingInfo("timeline-page-up", "pageup", "Timeline", "Page up"),
    BindingInfo("timeline-page-down", "pagedown", "Timeline", "Page down"),
    BindingInfo("timeline-home", "home,g", "Timeline", "Oldest"),
    BindingInfo("timeline-end", "end,G", "Timeline", "Newest"),
    BindingInfo("timeline-detail", "enter", "Timeline", "Details"),
    BindingInfo("timeline-select", "space", "Timeline", "Select"),
    BindingInfo("timeline-add", "a", "Timeline", "Add"),
    BindingInfo("timeline-edit", "e", "Timeline", "Edit"),
    BindingInfo("timeline-delete", "d,delete", "Timeline", "Delete"),
    BindingInfo("timeline-history", "h", "Timeline", "History"),
    BindingInfo("timeline-scope", "t", "Timeline", "Session/agent"),
    BindingInfo("timeline-filter", "slash", "Timeline", "Filter"),
    BindingInfo("timeline-unselect", "escape", "Timeline", "Unselect"),
    BindingInfo("working-memory-save", "ctrl+s", "Working memory", "Save"),
    BindingInfo("working-memory-add", "a", "Working memory", "Add key"),
    BindingInfo("working-memory-rename", "r", "Working memory", "Rename"),
    BindingInfo("working-memory-delete", "d", "Working memory", "Delete"),
    BindingInfo("working-memory-history", "h", "Working memory", "History"),
    BindingInfo("working-memory-importance", "i", "Working memory", "Importance"),
    BindingInfo("working-memory-commit", "c", "Working memory", "Commit"),
    BindingInfo("working-memory-external-editor", "ctrl+e", "Working memory", "$EDITOR"),
    BindingInfo("context-copy", "c", "Context", "Copy"),
    BindingInfo("context-save", "s", "Context", "Save to file"),
    BindingInfo("context-toggle-view", "v", "Context", "Raw/rendered"),
    BindingInfo("context-explain", "x", "Context", "Explain"),
    BindingInfo("context-explain-goto", "enter", "Context explain", "Show in timeline"),
    BindingInfo("context-server-pack", "m", "Context", "Server's pack (MemoryLayer)"),
    BindingInfo("context-focus-preview", "escape", "Context", "Back to preview"),
    BindingInfo("history-close", "escape,q,h", "History", "Close"),
    BindingInfo("trash-close", "escape,q", "Trash", "Close"),
    BindingInfo("trash-restore", "enter,r", "Trash", "Restore"),
    BindingInfo("trash-purge", "p", "Trash", "Purge"),
    BindingInfo("snapshots-reload", "r", "Snapshots", "Reload"),
    BindingInfo("briefing-toggle-scope", "a", "Briefing", "Agent/all"),
    BindingInfo("briefing-reload", "r", "Briefing", "Reload"),
    BindingInfo("confirm-cancel", "escape,n", "Dialogs", "Cancel"),
    BindingInfo("confirm-yes", "y", "Dialogs", "Yes"),
    BindingInfo("form-cancel", "escape", "Dialogs", "Cancel"),
    BindingInfo("form-save", "ctrl+s", "Dialogs", "Save"),
    BindingInfo("help-close", "escape,f1,q", "Dialogs", "Close"),
    BindingInfo("detail-close", "escape,enter,q", "Dialogs", "Close"),
    BindingInfo("detail-edit", "e", "Dialogs", "Edit"),
    BindingInfo("detail-delete", "d", "Dialogs", "Delete"),
    BindingInfo("prompt-cancel", "escape", "Dialogs", "Cancel"),
    BindingInfo("unsaved-save", "s", "Dialogs", "Save"),
    BindingInfo("unsaved-discard", "d", "Dialogs", "Discard"),
    BindingInfo("unsaved-keep", "escape,k", "Dialogs", "Keep editing"),
    BindingInfo("conflict-mine", "m", "Dialogs", "Keep mine"),
    BindingInfo("conflict-theirs", "t", "Dialogs", "Take theirs"),
    BindingInfo("conflict-keep", "escape,k", "Dialogs", "Keep editing"),
    BindingInfo("commit-cancel", "escape", "Dialogs", "Cancel"),
)
BINDING_IDS: frozenset[str] = frozenset(info.id for info in BINDINGS)

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS = frozenset(
    {"backspace", "delete", "down", "end", "enter", "escape", "home", "insert", "left"}
    | {"pagedown", "pageup", "return", "right", "space", "tab", "up"}
    | {f"f{n}" for n in range(1, 25)}
    # Textual's names for characters whose Unicode names are obscure
    | {"slash", "backslash", "at", "minus", "plus", "underscore"}
)


def key_problem(key: str) -> str | None:
    """Why `key` (one key, e.g. "ctrl+s") is not a key Textual can bind (None: it is)."""
    if not key:
        return "an empty key"
    if key == "+":
        return None
    *modifiers, base = key.split("+")
    if not base:
        return f"{key!r} names no key after its modifiers"
    if any(modifier not in MODIFIERS for modifier in modifiers):
        return f"{key!r} has an unknown modifier (use {', '.join(sorted(MODIFIERS))})"
    if len(base) == 1:
        return None if base.isprintable() and not base.isspace() else f"{key!r} is not a key"
    if base in NAMED_KEYS:
        return None
    try:  # a character by its name: question_mark, full_stop, comma…
        unicodedata.lookup(base.replace("_", " ").upper())
    except KeyError:
        return f"{key!r} is not a key name (e.g. ctrl+s, f2, escape, question_mark)"
    return None


@dataclass(frozen=True, slots=True)
class Keymap:
    """The config's keymap, checked: what applies, and what was wrong (ignored)."""

    bindings: dict[str, str]
    problems: list[str]

    def message(self) -> str | None:
        """One line for the user at start (None: nothing wrong)."""
        if not self.problems:
            return None
        return "Keymap: " + "; ".join(self.problems) + ". Other keys are unchanged."


def read_keymap(config: Mapping[str, object]) -> Keymap:
    """Check the config's `keymap` entries; a wrong entry is ignored and named."""
    raw = config.get("keymap")
    if raw is None:
        return Keymap({}, [])
    if not isinstance(raw, Mapping):
        return Keymap({}, ['"keymap" must map binding ids to keys, e.g. {"quit": "ctrl+x"}'])
    bindings: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in raw.items():
        if binding_id not in BINDING_IDS:
            close = difflib.get_close_matches(str(binding_id), sorted(BINDING_IDS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else " (F1 lists them)"
            problems.append(f"unknown binding id {binding_id!r}{hint}")
            continue
        if not isinstance(keys, str):
            problems.append(f'{binding_id!r}: keys must be a string such as "ctrl+s"')
            continue
        wrong = [problem for key in keys.split(",") if (problem := key_problem(key.strip()))]
        if wrong:
            problems.append(f"{binding_id!r}: {wrong[0]}")
            continue
        bindings[binding_id] = ",".join(key.strip() for key in keys.split(","))
    return Keymap(bindings, problems)


def keys_help(keymap: Mapping[str, str]) -> str:
    """The help's table of binding ids and their keys (the user's where remapped)."""
    rows = ["## Key binding ids", "", "Remap any of them in the config's `keymap` (README).", ""]
    rows += ["| id | keys | where | what |", "|---|---|---|---|"]
    for info in BINDINGS:
        keys = keymap.get(info.id)
        shown = f"{_code(keys)} (yours; default {_code(info.keys)})" if keys else _code(info.keys)
        rows.append(f"| `{info.id}` | {shown} | {info.area} | {info.description} |")
    return "\n".join(rows)


def _code(keys: str) -> str:
    """Keys as a Markdown code span inside a table cell (a key may be ` or |)."""
    keys = keys.replace("|", "\\|")
    return f"`` {keys} ``" if "`" in keys else f"`{keys}`"
