"""Saying politely what a backend cannot do, in the backend's own words.

A pane asks `refuse_unsupported(widget, Capability.X)` before it offers an action: if
the backend lacks it, a toast says why (MemoryLayer: "sessions cannot be closed or
reopened: they live until they expire or are deleted") and the action stops.
"""

from __future__ import annotations

from textual.dom import DOMNode

from memtui.backend.base import CAPABILITY_TEXT
from memtui.tui.services import app_services


def refuse_unsupported(node: DOMNode, capability: str) -> bool:
    """True (and a toast) when the open backend lacks `capability`. Before the backend
    is open nothing is refused here: the action itself says the store is not open."""
    services = app_services(node)
    backend = services.backend
    if backend is None or not services.capabilities or services.has_capability(capability):
        return False
    try:
        reason = backend.unsupported_reason(capability)
    except Exception:  # explaining must never fail the action's refusal
        reason = f"this backend has no {CAPABILITY_TEXT.get(capability, capability)}"
    node.app.notify(
        reason[:1].upper() + reason[1:] + ".", title="Not available", severity="warning"
    )
    return True
