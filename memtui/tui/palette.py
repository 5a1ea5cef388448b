"""Theme colours for Rich text the widgets build themselves (cells, timeline lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

_cache: dict[str, dict[str, str]] = {}

_NAMES = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "text-muted",
    "foreground-muted",
)


def theme_colors(app: App) -> dict[str, str]:
    """`{"warning": "#ffa62b", ...}` for the current theme, computed once per theme."""
    name = app.theme
    colors = _cache.get(name)
    if colors is None:
        variables = app.get_css_variables()
        colors = {key: variables[key] for key in _NAMES if key in variables}
        colors.setdefault("text-muted", variables.get("foreground-darken-2", "grey50"))
        _cache[name] = colors
    return colors
