"""Messages the TUI's widgets use to talk to each other."""

from __future__ import annotations

from textual.message import Message

from memtui.domain.models import Change, Session


class SessionSelected(Message):
    """The highlighted session in the session list changed (None: nothing selected)."""

    def __init__(self, session: Session | None) -> None:
        super().__init__()
        self.session = session


class StoreChanged(Message):
    """Something changed in the backend. `changes` come from the change feed; with
    `full_refresh`, the backend has no change feed (or the cursor was lost) and panes
    should simply reload what they show."""

    def __init__(self, changes: list[Change], *, full_refresh: bool = False) -> None:
        super().__init__()
        self.changes = changes
        self.full_refresh = full_refresh

    def touches_session(self, session_id: str | None) -> bool:
        if self.full_refresh:
            return True
        return any(change.session_id == session_id for change in self.changes)
