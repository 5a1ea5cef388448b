"""A DataTable that moves like every other list in memtui (issue 9, keys).

j/k, g/G, Home/End and PgUp/PgDn work in every list: the session list, the
working-memory keys, the snapshots (and the timeline, which has its own view).
DataTable's own Home/End only scroll sideways in row mode; here they go to the first
and the last row, as in the timeline.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

CellType = TypeVar("CellType")

LIST_BINDINGS: list[BindingType] = [
    Binding("k", "cursor_up", "Up", show=False, id="list-up"),
    Binding("j", "cursor_down", "Down", show=False, id="list-down"),
    Binding("home,g", "scroll_top", "First", show=False, id="list-first"),
    Binding("end,G", "scroll_bottom", "Last", show=False, id="list-last"),
]


class ListTable(DataTable[CellType]):
    BINDINGS: ClassVar[list[BindingType]] = LIST_BINDINGS
