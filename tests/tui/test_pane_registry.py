"""The pane registry (memtui.tui.panes): every entry names a real pane, without an App."""

from __future__ import annotations

import re

from memtui.tui.panes import PANES, pane_spec
from memtui.tui.widgets.pane import SessionPane

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def test_every_pane_resolves_to_a_session_pane_with_its_styles_beside_it() -> None:
    for spec in PANES:
        assert KEBAB.match(spec.id), spec.id
        assert issubclass(spec.widget_class(), SessionPane), spec.widget
        assert spec.css_path is not None and spec.css_path.parent.name == "widgets", spec.id


def test_ids_and_keys_are_unique_and_the_first_pane_is_composed_at_once() -> None:
    assert len({spec.id for spec in PANES}) == len(PANES)
    assert len({spec.key for spec in PANES}) == len(PANES)
    assert PANES[0].eager
    assert pane_spec("working-memory").label == "Working memory"
