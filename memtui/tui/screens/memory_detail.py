"""The full content and metadata of one memory."""

from __future__ import annotations

import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from memtui.domain.clock import ensure_utc
from memtui.domain.models import Memory
from memtui.tui.stored_text import block, join, line


def local_time_text(memory: Memory) -> str:
    local = ensure_utc(memory.time).astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


class MemoryDetailScreen(ModalScreen[str | None]):
    """Dismisses with "edit" or "delete" when the user asks for those from here."""

    DEFAULT_CSS = """
    MemoryDetailScreen { align: center middle; }
    MemoryDetailScreen > Vertical {
        width: 90%; max-width: 110; height: 85%;
        border: thick $primary 80%; background: $surface; padding: 0 1;
    }
    MemoryDetailScreen .title { text-style: bold; padding: 1 0 0 0; }
    MemoryDetailScreen .fields { height: auto; padding: 1 0; }
    MemoryDetailScreen VerticalScroll { height: 1fr; }
    MemoryDetailScreen .section { color: $text-muted; text-style: bold; padding: 1 0 0 0; }
    MemoryDetailScreen .footer { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="detail-close"),
        Binding("e", "edit", "Edit", id="detail-edit"),
        Binding("d", "delete", "Delete", id="detail-delete"),
    ]

    def __init__(self, memory: Memory) -> None:
        super().__init__()
        self.memory = memory

    def compose(self) -> ComposeResult:
        memory = self.memory
        importance = "–" if memory.importance is None else f"{memory.importance:.2f}"
        rows = [
            ("id", memory.id or "– (this server gives memories no id)"),
            ("time", local_time_text(memory)),
            ("agent", memory.agent_id),
            ("session", memory.session_id or "–"),
            ("type", memory.memory_type),
            ("event", memory.event_type),
            ("importance", importance),
            ("tags", ", ".join(memory.tags) or "–"),
            ("parent", memory.parent_id or "–"),
        ]
        # Every value is stored text: Content, never markup, controls made visible.
        fields = Content("\n").join(
            join((f"{name:>10}", "b"), "  ", line(value)) for name, value in rows
        )
        with Vertical():
            yield Label(join("Memory ", line(memory.id)), classes="title")
            with VerticalScroll():
                yield Static(fields, classes="fields", id="detail-fields")
                yield Label("Content", classes="section")
                yield Static(block(memory.content), id="detail-content")
                yield Label("Metadata", classes="section")
                metadata = json.dumps(memory.metadata, indent=2, sort_keys=True, default=str)
                yield Static(block(metadata if memory.metadata else "{}"), id="detail-metadata")
            yield Label("e edit · d delete · escape close", classes="footer")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.dismiss("edit")

    def action_delete(self) -> None:
        self.dismiss("delete")
