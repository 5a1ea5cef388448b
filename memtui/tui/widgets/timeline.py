"""The memory timeline: every memory of the selected session (or of its agent), oldest
first, over a keyset-paged cursor.

`TimelineView` is a line-API ScrollView (toolong's log view is the model): its virtual
height is the memory count, and it renders only the lines on screen from
`TimelineSource`'s LRU page cache. A page that is not cached is drawn as a placeholder
and fetched in a thread worker, so scrolling never waits on the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from memtui.domain.clock import ensure_utc
from memtui.domain.errors import MemtuiError
from memtui.domain.filters import MemoryFilter as TimelineFilter
from memtui.domain.models import (
    ERROR_EVENT_TYPE,
    Capability,
    Memory,
    MemoryPatch,
    MemoryQuery,
    NewMemory,
    Order,
    Session,
)
from memtui.domain.safe_text import visible_line
from memtui.domain.wording import plural
from memtui.tui.messages import StoreChanged
from memtui.tui.palette import theme_colors
from memtui.tui.services import app_services
from memtui.tui.stored_text import Part, block, join, line, preview_text
from memtui.tui.timeline_source import DEFAULT_PAGE_SIZE, TimelineSource
from memtui.tui.widgets.pane import SessionPane
from memtui.tui.workers import run_backend_call

if TYPE_CHECKING:
    from memtui.backend import Backend

# Badge colours per memory type: fixed (not theme colours, several of which are close
# to each other) and readable with black text on dark and light themes alike.
TYPE_COLORS = {
    "episodic": "#61afef",
    "decision": "#c678dd",
    "entity": "#98c379",
    "session": "#e5c07b",
}
OTHER_TYPE_COLOR = "#56b6c2"
# Columns wide enough for every built-in type and event ("observation", "pre_compact");
# longer custom ones end in "…" rather than being cut mid-word silently.
TYPE_WIDTH = 11
EVENT_WIDTH = 11


def fit(text: str, width: int) -> str:
    """`text` padded to `width` cells, or cut with an ellipsis."""
    return f"{text:<{width}}" if len(text) <= width else text[: width - 1] + "…"


class TimelineView(ScrollView, can_focus=True):
    """Lines of memories; the cursor row is highlighted, selected rows marked."""

    DEFAULT_CSS = """
    TimelineView { height: 1fr; scrollbar-gutter: stable; }
    TimelineView > .timeline--cursor { background: $block-cursor-background; }
    TimelineView:focus > .timeline--cursor {
        background: $block-cursor-background; text-style: bold;
    }
    TimelineView > .timeline--selected { background: $accent 30%; }
    TimelineView > .timeline--placeholder { color: $text-muted; }
    TimelineView > .timeline--time { color: $text-muted; }
    TimelineView > .timeline--tags { color: $text-muted; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--cursor",
        "timeline--selected",
        "timeline--placeholder",
        "timeline--time",
        "timeline--tags",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="timeline-up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="timeline-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="timeline-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="timeline-page-down"),
        Binding("home,g", "first", "Oldest", show=False, id="timeline-home"),
        Binding("end,G", "last", "Newest", show=False, id="timeline-end"),
    ]

    cursor: reactive[int] = reactive(0, repaint=False)

    class CursorMoved(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source: TimelineSource | None = None
        self.selected: set[str] = set()
        self._line_cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._wanted: set[int] = set()
        self._fetching = False
        self.empty_text = "No session selected."

    # --- data ---------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.source.total if self.source else 0

    @property
    def is_provisional(self) -> bool:
        return self.source is not None and self.source.provisional

    def set_source(self, source: TimelineSource | None, *, keep_position: bool) -> None:
        old_total = self.total
        at_end = old_total > 0 and self.cursor >= old_total - 1
        scroll_y = self.scroll_y
        if self.is_provisional and source is not None and not at_end:
            # The provisional list held only the newest rows: shift to their real place.
            shift = source.total - old_total
            self.cursor += shift
            scroll_y += shift
        self.source = source
        self._line_cache.clear()
        self._wanted.clear()
        total = self.total
        self.virtual_size = Size(0, total)  # lines are cut to the width: no x scrolling
        if not keep_position:
            self.selected.clear()
            self.set_cursor(max(total - 1, 0), center=False)
            # Again once the new virtual height is laid out (the scroll range follows it).
            self.call_after_refresh(self.scroll_to_cursor)
        elif at_end and total > old_total:
            # Following the newest memory, like `tail -f`.
            self.set_cursor(total - 1, center=False)
            self.call_after_refresh(self.scroll_to_cursor)
        else:
            self.cursor = min(self.cursor, max(total - 1, 0))
            self.scroll_to(y=scroll_y, animate=False, immediate=True, force=True)
        self.refresh()

    def scroll_to_cursor(self) -> None:
        """Make the cursor row visible (the newest at the bottom when at the end)."""
        height = max(self.size.height, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)

    def memory_at(self, index: int) -> Memory | None:
        return self.source.peek(index) if self.source else None

    @property
    def current(self) -> Memory | None:
        return self.memory_at(self.cursor)

    def visible_pages(self) -> list[int]:
        if not self.source or not self.total:
            return []
        first = int(self.scroll_y)
        last = min(first + max(self.size.height, 1), self.total) - 1
        return list(range(self.source.page_of(first), self.source.page_of(max(last, first)) + 1))

    # --- rendering -------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        if self.source is None or self.total == 0:
            if y == 0:
                style = self.get_component_rich_style("timeline--placeholder")
                text = self.empty_text if self.source is None else "No memories match."
                return Strip([Segment(f" {text}", style)]).adjust_cell_length(width)
            return Strip.blank(width, self.rich_style)
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        memory = self.source.peek(index)
        if memory is None:
            self._want(self.source.page_of(index))
            style = self.get_component_rich_style("timeline--placeholder")
            return Strip([Segment("  ⋯ loading", style)]).adjust_cell_length(width)
        is_cursor = index == self.cursor
        is_selected = memory.id in self.selected
        key = (
            memory.id,
            memory.time,
            width,
            is_cursor,
            is_selected,
            self.has_focus,
            self.app.theme,
            hash(
                (
                    memory.content,
                    memory.memory_type,
                    tuple(memory.tags),
                    memory.importance,
                    memory.event_type,
                )
            ),
        )
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_memory(memory, width, is_cursor=is_cursor, selected=is_selected)
            self._line_cache[key] = strip
        return strip

    def _render_memory(
        self, memory: Memory, width: int, *, is_cursor: bool, selected: bool
    ) -> Strip:
        colors = theme_colors(self.app)
        base = self.rich_style
        if is_cursor:
            base = base + self.get_component_rich_style("timeline--cursor")
        elif selected:
            base = base + self.get_component_rich_style("timeline--selected")
        time_style = base + Style(dim=True)
        local = ensure_utc(memory.time).astimezone()
        today = ensure_utc(app_services(self).clock()).astimezone().date()
        when = local.strftime("%H:%M:%S" if local.date() == today else "%m-%d %H:%M")
        badge_color = TYPE_COLORS.get(memory.memory_type, OTHER_TYPE_COLOR)
        is_error = memory.event_type == ERROR_EVENT_TYPE
        badge_style = Style(color="black", bgcolor=badge_color, bold=True)
        importance = memory.importance
        if importance is None:
            imp_text, imp_style = "  –  ", time_style
        else:
            bars = "▁▂▃▄▅▆▇█"[min(int(importance * 8), 7)]
            imp_text = f"{bars}{importance:.2f}"
            imp_style = base + Style(
                color=colors["warning"] if importance >= 0.8 else None, bold=importance >= 0.8
            )
        event_style = base + Style(color=colors["error"], bold=True) if is_error else time_style
        # Stored text, control characters made visible (segments are written as is).
        content = preview_text(memory.content)
        tags = [visible_line(tag) for tag in memory.tags]
        memory_type = visible_line(memory.memory_type)
        event_type = visible_line(memory.event_type)
        marker = "●" if selected else " "
        segments = [
            Segment(marker, base + Style(color=colors["accent"], bold=True)),
            Segment(f"{when:>11} ", time_style),
            Segment(f" {fit(memory_type, TYPE_WIDTH)} ", badge_style),
            Segment(" ", base),
            Segment(f"{imp_text} ", imp_style),
            Segment(f"{fit(event_type, EVENT_WIDTH)} ", event_style),
        ]
        used = sum(s.cell_length for s in segments)
        room = max(width - used, 0)
        # Content first; whole tags fill what is left, up to a third of the room.
        tag_room = max(room - len(content) - 2, room // 3) if tags else 0
        tag_text = ""
        for tag in tags:
            piece = f" #{tag}"
            if len(tag_text) + len(piece) + 1 > tag_room:
                break
            tag_text += piece
        content_room = room - (len(tag_text) + 1 if tag_text else 0)
        if len(content) > content_room:
            content = content[: max(content_room - 1, 0)] + "…" if content_room > 0 else ""
        segments.append(Segment(content, base))
        if tag_text:
            pad = " " * max(content_room - len(content), 0)
            segments.append(
                Segment(pad + " " + tag_text.lstrip(), base + Style(dim=True, italic=True))
            )
        return Strip(segments).adjust_cell_length(width, base)

    # --- fetching --------------------------------------------------------------------

    def _want(self, page: int) -> None:
        if page in self._wanted:
            return
        self._wanted.add(page)
        if not self._fetching:
            self._fetching = True
            self.call_later(self._fetch_wanted)

    def _fetch_wanted(self) -> None:
        source = self.source
        wanted = sorted(self._wanted)
        self._wanted.clear()
        if source is None or not wanted:
            self._fetching = False
            return

        def done(_: None) -> None:
            self._fetching = False
            if source is self.source:
                self._line_cache.clear()
                self.refresh()
            if self._wanted:
                self._fetching = True
                self._fetch_wanted()

        def failed(error: MemtuiError) -> None:
            self._fetching = False
            app_services(self).report_backend_error(error, action="Loading memories")

        run_backend_call(
            self,
            lambda backend: source.load_pages(backend, wanted),
            on_done=done,
            on_error=failed,
            action="Loading memories",
            group="timeline-pages",
        )

    # --- cursor and scrolling -----------------------------------------------------------

    def set_cursor(self, index: int, *, center: bool = False) -> None:
        total = self.total
        if total == 0:
            self.cursor = 0
            return
        index = max(0, min(index, total - 1))
        old = self.cursor
        self.cursor = index
        height = max(self.size.height, 1)
        top = int(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True, force=True)
        self._refresh_index(old)
        self._refresh_index(index)
        if old != index:
            self.post_message(self.CursorMoved(index))

    def _refresh_index(self, index: int) -> None:
        # ScrollView.refresh_line takes the virtual line (it subtracts the scroll
        # offset itself): passing the on-screen y repainted some other row whenever
        # the timeline was scrolled, so the highlight stayed behind (issue 9 item 1).
        if 0 <= index - int(self.scroll_y) < self.size.height:
            self.refresh_line(index)

    def action_cursor_up(self) -> None:
        self.set_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.set_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.set_cursor(self.cursor - max(self.size.height - 1, 1))

    def action_page_down(self) -> None:
        self.set_cursor(self.cursor + max(self.size.height - 1, 1))

    def action_first(self) -> None:
        self.set_cursor(0)

    def action_last(self) -> None:
        self.set_cursor(self.total - 1)

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y
        if index < self.total:
            self.set_cursor(index)
            if event.chain >= 2:
                pane = self.parent
                if isinstance(pane, TimelinePane):
                    pane.action_show_detail()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(0, self.total)
        self._line_cache.clear()
        self.call_after_refresh(self.scroll_to_cursor)

    def toggle_selected(self) -> None:
        memory = self.current
        if memory is None or not memory.id:
            return
        if memory.id in self.selected:
            self.selected.discard(memory.id)
        else:
            self.selected.add(memory.id)
        self._refresh_index(self.cursor)


class TimelinePane(SessionPane):
    """Pane 2: the selected session's memories; `t` switches to its agent's."""

    HELP: ClassVar[str] = """\
# Memory timeline

The selected session's memories, oldest at the top and newest at the bottom (it opens
at the newest and follows new ones while the cursor is on the last row). Press `t` to
switch to **all memories of the session's agent**, across sessions.

Each line: time (local), a coloured **type** badge, importance (▁…█ and the value;
0.8 and above in bold), the **event type** (errors in red), the content and `#tags`.

It reads pages of 100 from the store as you scroll, so a timeline of a million
memories opens and scrolls as fast as a short one.

## Filter (`/`)
Words search the content. Also:
`type:decision,entity` · `-type:session` · `tag:auth` · `event:error` ·
`since:2h` · `until:30m` (relative `30m`, `2h`, `7d`, `1w` or ISO 8601) · `imp:0.7`

## Keys
| key | action |
|---|---|
| `↑ ↓ pgup pgdn` | move |
| `home` / `end` (`g` / `G`) | oldest / newest |
| `enter` | details: full content and metadata |
| `space` | select / unselect (for bulk delete) |
| `a` | add a memory to this session |
| `e` | edit the memory |
| `d` / `delete` | delete the selected memories (or this one), after confirming |
| `t` | session ↔ agent scope |
| `/` | filter · `escape` clears the selection |
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_detail", "Details", id="timeline-detail"),
        Binding("space", "toggle_select", "Select", id="timeline-select"),
        Binding("a", "add_memory", "Add", id="timeline-add"),
        Binding("e", "edit_memory", "Edit", id="timeline-edit"),
        Binding("d,delete", "delete_memories", "Delete", id="timeline-delete"),
        Binding("h", "history", "History", id="timeline-history"),
        Binding("t", "toggle_scope", "Session/agent", id="timeline-scope"),
        Binding("slash", "filter", "Filter", id="timeline-filter"),
        Binding("escape", "clear_selection", "Unselect", show=False, id="timeline-unselect"),
    ]

    agent_scope: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__(id="timeline")
        self.filter = TimelineFilter()
        self.loaded_query: MemoryQuery | None = None
        self._generation = 0  # newest reload; older results are dropped

    def compose(self) -> ComposeResult:
        yield Static("", id="timeline-header")
        yield Input(
            placeholder="/ filter: text  type:decision  tag:auth  event:error  since:2h  until:30m",
            id="timeline-filter",
        )
        yield Static("", id="timeline-filter-error", markup=False)
        yield TimelineView(id="timeline-view")

    @property
    def view(self) -> TimelineView:
        return self.query_one(TimelineView)

    # --- loading ----------------------------------------------------------------------

    def watch_session(self, session: Session | None) -> None:
        self.view.selected.clear()
        self.reload(reset=True)

    def watch_agent_scope(self) -> None:
        if self.is_mounted:
            self.reload(reset=True)

    def base_query(self, session: Session) -> MemoryQuery:
        if self.agent_scope:
            return MemoryQuery(agent_id=session.agent_id, order=Order.ASC.value)
        return MemoryQuery(session_id=session.id, order=Order.ASC.value)

    def reload(self, *, reset: bool) -> None:
        session = self.session
        view = self.view
        if session is None:
            self.loaded_query = None
            view.empty_text = "No session selected."
            view.set_source(None, keep_position=False)
            self._update_header()
            return
        query = self.filter.apply(self.base_query(session))
        height = max(view.size.height, 40)
        first = int(view.scroll_y)
        follow = view.total > 0 and view.cursor >= view.total - 1

        self._generation += 1
        generation = self._generation

        def show_tail(tail: list[Memory]) -> None:
            # The newest memories, painted before the (slower) count arrives.
            if generation != self._generation or not reset:
                return
            provisional = TimelineSource(query, len(tail), provisional=True)
            provisional.seed(0, tail)
            view.set_source(provisional, keep_position=False)
            self._update_header()

        def load(backend: Backend) -> TimelineSource:
            tail: list[Memory] = []
            if reset or follow:
                # Open at the newest memories: read them first (one short index range)
                # and show them, then count.
                page = backend.list_memories(
                    replace(query, order=Order.DESC.value, limit=2 * DEFAULT_PAGE_SIZE)
                )
                tail = list(reversed(page.memories))
                if reset:
                    self.deliver(show_tail, tail)
            total = backend.count_memories(query)
            source = TimelineSource(query, total)
            if tail:
                source.seed(max(total - len(tail), 0), tail)
                source.load_pages(backend, [source.last_page - 1, source.last_page])
            else:
                last = min(first + height, total) - 1
                source.load_pages(
                    backend, list(range(source.page_of(first), source.page_of(max(last, 0)) + 1))
                )
            return source

        def loaded(source: TimelineSource) -> None:
            if self.session is None or self.session.id != session.id:
                return
            if generation != self._generation:
                return
            self.loaded_query = query
            view.set_source(source, keep_position=not reset or view.is_provisional)
            self._update_header()

        self.call_backend(
            load, on_done=loaded, action="Loading the timeline", group="timeline-load"
        )

    def _update_header(self) -> None:
        header = self.query_one("#timeline-header", Static)
        session = self.session
        if session is None:
            header.update(line("Select a session to see its memories.", "dim"))
            return
        view = self.view
        # Ids and names are stored text: Content parts, never markup.
        scope = (
            join("agent ", line(session.agent_id, "b"), " · all sessions")
            if self.agent_scope
            else join("session ", line(session.id, "b"), " · ", line(session.agent_id))
        )
        count = "counting…" if view.is_provisional else plural(view.total, "memory")
        parts: list[Part] = [scope, count]
        if not self.agent_scope and Capability.SESSION_MEMORIES not in getattr(
            self.app, "capabilities", {Capability.SESSION_MEMORIES}
        ):
            # MemoryLayer: memories carry no session link; every session of a workspace
            # shows the workspace's memories.
            parts.append(("memories are the workspace's, not the session's", "$warning"))
        if self.filter.active:
            parts.append(("filtered", "$warning"))
        if view.selected:
            parts.append((f"{len(view.selected)} selected", "$accent"))
        header.update(join(*parts, separator=" · "))

    def on_store_changed(self, message: StoreChanged) -> None:
        session = self.session
        if session is None:
            return
        if message.full_refresh:
            self.reload(reset=False)
            return
        for change in message.changes:
            if not change.kind.startswith("memory."):
                continue
            if (
                change.session_id is None
                or change.session_id == session.id
                or (self.agent_scope and change.agent_id == session.agent_id)
            ):
                self.reload(reset=False)
                return

    @on(TimelineView.CursorMoved)
    def _cursor_moved(self, event: TimelineView.CursorMoved) -> None:
        event.stop()

    def reveal(self, memory_id: str) -> None:
        """Move the cursor to a memory of the loaded timeline (from the context's
        explain view). Its place is counted (memories up to its time), the pages
        around it are read, and the cursor lands on it; a memory the filter hides is
        said so."""
        view = self.view
        source = view.source
        query = self.loaded_query
        if source is None or query is None:
            self.notify("The timeline is still loading; try again.", severity="warning")
            return

        def locate(backend: Backend) -> int | None:
            memory = backend.get_memory(memory_id)
            until = memory.time if query.until is None else min(query.until, memory.time)
            upto = backend.count_memories(replace(query, until=until))
            page = source.page_of(max(upto - 1, 0))
            source.load_pages(backend, [p for p in (page - 1, page, page + 1) if p >= 0])
            return source.find(memory_id)

        def located(index: int | None) -> None:
            if view.source is not source:
                return  # reloaded meanwhile
            if index is None:
                self.notify(
                    "That memory is not in the timeline as filtered; clear the filter (/).",
                    severity="warning",
                )
                return
            view.set_cursor(index)
            view.scroll_to_cursor()
            view.refresh()
            view.focus()

        self.call_backend(
            locate, on_done=located, action="Finding the memory", group="timeline-reveal"
        )

    # --- filter -----------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#timeline-filter", Input).focus()

    @on(Input.Submitted, "#timeline-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error_line = self.query_one("#timeline-filter-error", Static)
        try:
            new_filter = TimelineFilter.parse(event.value, self.clock())
        except MemtuiError as error:
            # The text stays in the input so it can be corrected.
            error_line.update(block(f"⚠ {error}"))
            error_line.display = True
            return
        error_line.update("")
        error_line.display = False
        self.filter = new_filter
        self.reload(reset=True)
        self.view.focus()

    def on_key(self, event: events.Key) -> None:
        filter_input = self.query_one("#timeline-filter", Input)
        if event.key == "escape" and self.app.focused is filter_input:
            event.stop()
            self.view.focus()

    # --- actions ----------------------------------------------------------------------

    def _capable(self, capability: str, what: str) -> bool:
        if self.has_capability(capability):
            return True
        self.app.notify(
            f"This backend cannot {what}: it gives memories no stable id "
            f"(no {capability} support).",
            title="Not available",
            severity="warning",
        )
        return False

    def action_toggle_scope(self) -> None:
        if self.session is None:
            return
        self.agent_scope = not self.agent_scope

    def action_toggle_select(self) -> None:
        if not self._capable(Capability.MEMORY_IDS, "select memories for deletion"):
            return
        self.view.toggle_selected()
        self.view.action_cursor_down()
        self._update_header()

    def action_clear_selection(self) -> None:
        if not self.view.selected:
            raise SkipAction()  # nothing selected: escape goes on, to the session list
        self.view.selected.clear()
        self.view.refresh()
        self._update_header()

    def action_show_detail(self) -> None:
        memory = self.view.current
        if memory is None:
            return
        from memtui.tui.screens.memory_detail import MemoryDetailScreen

        def after(choice: str | None) -> None:
            if choice == "edit":
                self.action_edit_memory()
            elif choice == "delete":
                self._confirm_delete([memory])

        self.app.push_screen(MemoryDetailScreen(memory), after)

    def action_add_memory(self) -> None:
        if not self.store_ready("Add memory"):
            return
        session = self.session
        if session is None:
            self.app.notify("Select a session first.", severity="warning")
            return
        from memtui.tui.screens.forms import MemoryForm, MemoryFormScreen

        def save(form: MemoryForm | None) -> None:
            if form is None:
                return
            new = NewMemory(
                agent_id=session.agent_id,
                session_id=session.id,
                content=form.content,
                memory_type=form.memory_type,
                event_type=form.event_type,
                tags=form.tags,
                importance=form.importance,
                metadata=form.metadata,
            )

            def added(memories: list[Memory]) -> None:
                self.app.notify("Memory added.")
                self.reload(reset=False)

            self.call_backend(
                lambda backend: backend.add_memories([new]),
                on_done=added,
                action="Add memory",
                group="timeline-write",
                exclusive=False,
                writes=True,
            )

        self.app.push_screen(MemoryFormScreen(title=f"Add memory to {session.id}"), save)

    def action_edit_memory(self) -> None:
        memory = self.view.current
        if memory is None:
            return
        if not self._capable(Capability.MEMORY_EDIT, "edit memories"):
            return
        from memtui.tui.screens.forms import MemoryForm, MemoryFormScreen

        def save(form: MemoryForm | None) -> None:
            if form is None:
                return
            patch = MemoryPatch(
                content=form.content,
                memory_type=form.memory_type,
                event_type=form.event_type,
                tags=form.tags,
                importance=form.importance,
                metadata=form.metadata,
            )

            def edited(_: Memory) -> None:
                self.app.notify("Memory saved.")
                self.reload(reset=False)

            self.call_backend(
                lambda backend: backend.update_memory(memory.id, patch),
                on_done=edited,
                action="Edit memory",
                group="timeline-write",
                exclusive=False,
                writes=True,
            )

        self.app.push_screen(MemoryFormScreen(memory), save)

    def action_delete_memories(self) -> None:
        if not self._capable(Capability.MEMORY_IDS, "delete memories"):
            return
        view = self.view
        if view.selected:
            ids = sorted(view.selected)
            self._confirm_delete_ids(ids)
        elif view.current is not None:
            self._confirm_delete([view.current])

    def action_history(self) -> None:
        """The history of the memory under the cursor (h)."""
        memory = self.view.current
        if memory is None or not memory.id:
            self.notify("No memory under the cursor.", severity="warning")
            return
        from memtui.domain.history import HistoryTarget

        self.services.show_history(HistoryTarget.memory(memory.id))

    def _confirm_delete(self, memories: list[Memory]) -> None:
        if not self._capable(Capability.MEMORY_IDS, "delete memories"):
            return
        self._confirm_delete_ids([m.id for m in memories], preview=memories[0].content)

    def _confirm_delete_ids(self, ids: list[str], *, preview: str = "") -> None:
        from memtui.tui.screens.confirm import ConfirmScreen

        count = len(ids)
        title = f"Delete {plural(count, 'memory')}?"
        body = (
            f"“{preview[:200]}”"
            if preview and count == 1
            else f"{plural(count, 'selected memory')} will be removed."
        )
        if self.services.has_capability(Capability.TRASH):
            body += " They go to the trash: z undoes, Z shows the trash."
        else:
            body += " This backend has no trash: it cannot be undone."

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            session = self.session

            def deleted(removed: int) -> None:
                self.view.selected.difference_update(ids)
                self.services.record_delete("memory", ids, session.id if session else None)
                undo = " (z undoes)" if self.services.has_capability(Capability.TRASH) else ""
                self.app.notify(f"Deleted {plural(removed, 'memory')}.{undo}")
                self.reload(reset=False)

            self.call_backend(
                lambda backend: backend.delete_memories(ids),
                on_done=deleted,
                action="Delete memories",
                group="timeline-write",
                exclusive=False,
                writes=True,
            )

        self.app.push_screen(ConfirmScreen(title, body), confirmed)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Timeline: details", "Full content and metadata of the memory", self.action_show_detail
        )
        yield SystemCommand(
            "Timeline: add memory", "Add a memory to the selected session", self.action_add_memory
        )
        yield SystemCommand(
            "Timeline: edit memory", "Edit the memory under the cursor", self.action_edit_memory
        )
        yield SystemCommand(
            "Timeline: delete memories",
            "Delete the selected memories (or the one under the cursor)",
            self.action_delete_memories,
        )
        yield SystemCommand(
            "Timeline: session/agent scope",
            "Switch between this session's memories and all of its agent's",
            self.action_toggle_scope,
        )
        yield SystemCommand(
            "Timeline: filter", "Filter by type, tag, event, since/until, text", self.action_filter
        )
        yield SystemCommand("Timeline: oldest", "Jump to the oldest memory", self.view.action_first)
        yield SystemCommand("Timeline: newest", "Jump to the newest memory", self.view.action_last)
