"""Forms: a new session, and adding or editing a memory.

A form validates everything before it closes. A bad value gets a message that names the
field (and for JSON the line and column); nothing typed is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from memtui.domain.errors import InvalidInputError, MemtuiError
from memtui.domain.models import DEFAULT_EVENT_TYPE, DEFAULT_MEMORY_TYPE, Memory
from memtui.domain.safe_text import visible_line, visible_text
from memtui.tui.stored_text import block, line

FORM_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 100; height: auto; max-height: 90%;
    border: thick $accent 80%; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; padding: 1 0 0 0; }}
{name} .field-label {{ color: $text-muted; padding: 1 0 0 0; }}
{name} Input {{ width: 1fr; }}
{name} TextArea {{ height: 6; }}
{name} #content {{ height: 8; }}
{name} .error {{ color: $error; height: auto; padding: 1 0 0 0; }}
{name} .buttons {{ height: auto; align-horizontal: right; padding: 1 0; }}
{name} .buttons Button {{ margin-left: 2; }}
{name} .row {{ height: auto; }}
{name} .row > Vertical {{ height: auto; width: 1fr; padding-right: 1; }}
"""


def parse_json_object(text: str, *, field_name: str) -> dict[str, Any]:
    """Empty text is {}. Malformed JSON names the line and column."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{field_name}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            field=field_name,
        ) from error
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field_name}: must be a JSON object {{…}}", field=field_name)
    return value


def parse_ttl(text: str) -> timedelta | None:
    """`6h`, `30m`, `2d`…; `never` (or `none`) for a session that never expires."""
    text = text.strip()
    if text.lower() in {"never", "none", "0", "∞"}:
        return None
    from memtui.domain.timewindow import parse_duration

    return parse_duration(text)


def parse_importance(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as error:
        raise InvalidInputError(
            f"importance: {text!r} is not a number between 0 and 1", field="importance"
        ) from error
    if not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"importance: {text!r} is not between 0 and 1", field="importance")
    return value


def parse_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace(" ", ",").split(",") if tag.strip()]


class _FormScreen(ModalScreen[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form-cancel"),
        Binding("ctrl+s", "save", "Save", id="form-save", priority=True),
    ]

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(block(message))

    def buttons(self, save_label: str) -> ComposeResult:
        yield Static("", classes="error", id="form-error", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Cancel (esc)", id="cancel")
            yield Button(f"{save_label} (ctrl+s)", id="save", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def _on_mount(self, event: events.Mount) -> None:
        super()._on_mount(event)
        self._initial = self._field_values()

    def _field_values(self) -> tuple[str, ...]:
        values: list[str] = []
        for widget in self.query("Input, TextArea"):
            values.append(widget.text if isinstance(widget, TextArea) else widget.value)  # type: ignore[attr-defined]
        return tuple(values)

    def action_cancel(self) -> None:
        """Escape: a form with anything typed into it asks before it is thrown away."""
        if self._field_values() == getattr(self, "_initial", None):
            self.dismiss(None)
            return
        from memtui.tui.screens.confirm import ConfirmScreen

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard this form?",
                "What you typed here will be lost. Escape or n keeps editing.",
                confirm_label="Discard",
            ),
            answered,
        )

    def action_save(self) -> None:
        try:
            result = self.collect()
        except MemtuiError as error:
            self.show_error(str(error))
            return
        self.dismiss(result)

    def collect(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class NewSessionForm:
    agent_id: str
    ttl: timedelta | None
    metadata: dict[str, Any] = field(default_factory=dict)
    workspace_id: str | None = None


class NewSessionScreen(_FormScreen):
    DEFAULT_CSS = FORM_CSS.format(name="NewSessionScreen")

    def __init__(self, *, agent_id: str = "") -> None:
        super().__init__()
        self.agent_id = agent_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New session", classes="title")
            with Horizontal(classes="row"):
                with Vertical():
                    yield Label("Agent", classes="field-label")
                    # The selected session's agent, control characters visible.
                    yield Input(
                        visible_line(self.agent_id), placeholder="agent id or name", id="agent"
                    )
                with Vertical():
                    yield Label("Expires in (6h, 30m, never)", classes="field-label")
                    yield Input("6h", id="ttl")
                with Vertical():
                    yield Label("Workspace (optional)", classes="field-label")
                    yield Input("", id="workspace")
            yield Label("Metadata (JSON object, optional)", classes="field-label")
            yield TextArea("", id="metadata", language=None, soft_wrap=True)
            yield from self.buttons("Create")

    def on_mount(self) -> None:
        self.query_one("#agent", Input).focus()

    def collect(self) -> NewSessionForm:
        agent = self.query_one("#agent", Input).value
        if agent == visible_line(self.agent_id):  # left as shown: the exact agent
            agent = self.agent_id
        agent = agent.strip()
        if not agent:
            raise InvalidInputError("agent: required", field="agent")
        ttl = parse_ttl(self.query_one("#ttl", Input).value)
        metadata = parse_json_object(
            self.query_one("#metadata", TextArea).text, field_name="metadata"
        )
        workspace = self.query_one("#workspace", Input).value.strip() or None
        return NewSessionForm(agent_id=agent, ttl=ttl, metadata=metadata, workspace_id=workspace)


@dataclass(frozen=True, slots=True)
class MemoryForm:
    content: str
    memory_type: str
    event_type: str
    tags: list[str]
    importance: float | None
    metadata: dict[str, Any]


class MemoryFormScreen(_FormScreen):
    """Add (memory=None) or edit a memory."""

    DEFAULT_CSS = FORM_CSS.format(name="MemoryFormScreen")

    def __init__(self, memory: Memory | None = None, *, title: str = "") -> None:
        super().__init__()
        self.memory = memory
        self.title_text = title or ("Edit memory" if memory else "Add memory")

    def compose(self) -> ComposeResult:
        memory = self.memory
        with Vertical():
            yield Label(line(self.title_text), classes="title")  # may quote a session id
            with VerticalScroll():
                yield Label("Content", classes="field-label")
                yield TextArea(self._shown("content"), id="content", soft_wrap=True)
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Type", classes="field-label")
                        yield Input(self._shown("memory_type", DEFAULT_MEMORY_TYPE), id="type")
                    with Vertical():
                        yield Label("Event type", classes="field-label")
                        yield Input(self._shown("event_type", DEFAULT_EVENT_TYPE), id="event-type")
                    with Vertical():
                        yield Label("Importance (0–1)", classes="field-label")
                        importance = (
                            ""
                            if not memory or memory.importance is None
                            else f"{memory.importance:g}"
                        )
                        yield Input(importance, id="importance")
                yield Label("Tags (comma separated)", classes="field-label")
                yield Input(self._shown("tags"), id="tags")
                yield Label("Metadata (JSON object)", classes="field-label")
                metadata = (
                    json.dumps(memory.metadata, indent=2) if memory and memory.metadata else ""
                )
                yield TextArea(metadata, id="metadata", soft_wrap=True)
            yield from self.buttons("Save")

    def on_mount(self) -> None:
        self.query_one("#content", TextArea).focus()

    def _stored(self, field_name: str) -> str | None:
        memory = self.memory
        if memory is None:
            return None
        if field_name == "tags":
            return ", ".join(memory.tags)
        return str(getattr(memory, field_name))

    def _shown(self, field_name: str, default: str = "") -> str:
        """A stored field as the form shows it: its control characters visible (an
        editor would send them to the terminal raw)."""
        stored = self._stored(field_name)
        return default if stored is None else visible_text(stored)

    def _kept(self, field_name: str, typed: str) -> str:
        """What was typed, or the exact stored text when the field was left as shown."""
        stored = self._stored(field_name)
        if stored is not None and typed == visible_text(stored):
            return stored
        return typed

    def collect(self) -> MemoryForm:
        content = self._kept("content", self.query_one("#content", TextArea).text)
        if not content.strip():
            raise InvalidInputError("content: required", field="content")
        memory_type = self._kept("memory_type", self.query_one("#type", Input).value)
        memory_type = memory_type.strip() or DEFAULT_MEMORY_TYPE
        event_type = self._kept("event_type", self.query_one("#event-type", Input).value)
        event_type = event_type.strip() or DEFAULT_EVENT_TYPE
        importance = parse_importance(self.query_one("#importance", Input).value)
        tags = parse_tags(self._kept("tags", self.query_one("#tags", Input).value))
        metadata = parse_json_object(
            self.query_one("#metadata", TextArea).text, field_name="metadata"
        )
        return MemoryForm(
            content=content,
            memory_type=memory_type,
            event_type=event_type,
            tags=tags,
            importance=importance,
            metadata=metadata,
        )
