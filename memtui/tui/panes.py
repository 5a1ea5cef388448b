"""The pane registry: every tab on the right-hand side is one `PaneSpec` in `PANES`.

Adding a pane is one entry here plus its module (see docs/ARCHITECTURE.md, "How to add
a pane"): the tab, its digit key and binding, the "Go to" palette command and the help
line are all made from this table. A pane's widget is named as "module:Class" and
imported only when its tab is first shown (unless `eager`), so startup pays for
neither the module nor its widgets; its styles are the `.tcss` file beside the module,
read into the app's stylesheet at the same moment.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memtui.domain.models import Capability

if TYPE_CHECKING:
    from memtui.tui.widgets.pane import SessionPane


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """One tab of the session panes."""

    id: str
    """Kebab-case: the tab's DOM id is `tab-<id>`, its key binding's id `tab-<id>`."""
    label: str
    key: str
    """The key that shows the tab (outside text fields)."""
    widget: str
    """"module:Class" of its `SessionPane` subclass (constructed without arguments)."""
    capability: Capability | None = None
    """What the backend must offer for the pane to be useful. Without it the pane
    still shows (and says what is missing); the palette and help say so too."""
    eager: bool = False
    """Composed with the first screen instead of when its tab is first shown."""

    @property
    def tab_id(self) -> str:
        return f"tab-{self.id}"

    @property
    def binding_id(self) -> str:
        return f"tab-{self.id}"

    @property
    def module(self) -> str:
        return self.widget.partition(":")[0]

    def widget_class(self) -> type[SessionPane]:
        module, _, name = self.widget.partition(":")
        cls: type[SessionPane] = getattr(importlib.import_module(module), name)
        return cls

    def create(self) -> SessionPane:
        """The pane's widget (imports its module the first time)."""
        return self.widget_class()()

    @property
    def css_path(self) -> Path | None:
        """The `.tcss` beside the widget's module (found without importing it)."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            return None
        path = Path(spec.origin).with_suffix(".tcss")
        return path if path.is_file() else None


PANES: tuple[PaneSpec, ...] = (
    PaneSpec(
        "timeline",
        "Timeline",
        "1",
        "memtui.tui.widgets.timeline:TimelinePane",
        eager=True,
    ),
    PaneSpec(
        "working-memory",
        "Working memory",
        "2",
        "memtui.tui.widgets.working_memory:WorkingMemoryPane",
        capability=Capability.WORKING_MEMORY,
    ),
    PaneSpec(
        "context",
        "Context",
        "3",
        "memtui.tui.widgets.context_preview:ContextPreviewPane",
    ),
    PaneSpec(
        "snapshots",
        "Snapshots",
        "4",
        "memtui.tui.widgets.snapshots:SnapshotsPane",
        capability=Capability.SNAPSHOTS,
    ),
    PaneSpec(
        "briefing",
        "Briefing",
        "5",
        "memtui.tui.widgets.briefing:BriefingPane",
        capability=Capability.BRIEFING,
    ),
)


def pane_spec(pane_id: str) -> PaneSpec:
    """The registered pane `pane_id` (KeyError: there is none)."""
    for spec in PANES:
        if spec.id == pane_id:
            return spec
    raise KeyError(pane_id)
