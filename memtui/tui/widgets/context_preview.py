"""The context preview: exactly what `memtui context` prints, with its filters, a token
gauge, copy to clipboard and save to file.

Builds run in an exclusive thread worker after a short debounce, so typing in the
filters never waits for tiktoken; a newer build always wins over an older one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    ContentSwitcher,
    Input,
    Label,
    Markdown,
    ProgressBar,
    Select,
    Static,
    TextArea,
)

from memtui.domain.context.explain import ContextExplanation
from memtui.domain.errors import InvalidInputError, MemtuiError
from memtui.domain.models import (
    DEFAULT_ENCODING,
    ENCODINGS,
    Capability,
    ContextRequest,
    ContextResult,
    Order,
    ServerContext,
    Session,
)
from memtui.domain.safe_text import visible_line, visible_text
from memtui.tui.executor import mark_current_worker_as_write
from memtui.tui.messages import StoreChanged
from memtui.tui.screens.confirm import ConfirmScreen
from memtui.tui.screens.prompt import PromptScreen
from memtui.tui.stored_text import block, line
from memtui.tui.widgets.context_explain import ContextExplainView
from memtui.tui.widgets.pane import SessionPane
from memtui.tui.workers import when_alive

DEBOUNCE_SECONDS = 0.3
DEFAULT_MAX_TOKENS = 2000

# Which filter input an InvalidInputError's `field` points at.
_FIELD_INPUTS = {
    "since": "#cp-since",
    "until": "#cp-until",
    "max_tokens": "#cp-max-tokens",
    "include_types": "#cp-include",
    "types": "#cp-include",
    "memory_types": "#cp-include",
    "exclude_types": "#cp-exclude",
    "as_of": "#cp-as-of",
}
_LETTER_ACTIONS = frozenset({"copy", "toggle_view", "save_to_file", "toggle_explain"})


def split_types(text: str) -> tuple[str, ...]:
    """`decision, entity` -> ("decision", "entity"); blanks are dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def describe_gauge(result: ContextResult) -> str:
    """`1,873 / 2,000 tokens · 7 memories left out` (or without a budget)."""
    if result.max_tokens is None:
        text = f"{result.token_count:,} tokens · no budget"
    else:
        text = f"{result.token_count:,} / {result.max_tokens:,} tokens"
    if result.omitted_count:
        noun = "memory" if result.omitted_count == 1 else "memories"
        text += f" · {result.omitted_count:,} {noun} left out"
    else:
        noun = "memory" if result.memory_count == 1 else "memories"
        text += f" · all {result.memory_count:,} {noun} included"
    return f"{text} · {result.encoding}"


def describe_server_gauge(pack: ServerContext) -> str:
    """The server's own context beside memtui's exact count of it:
    `server's context-pack · 1,204 tokens exact (cl100k_base) · its estimate 980
    (chars_div_3_conservative_v1): 224 too few (-19%) · budget 2,000`."""
    diff = pack.server_tokens - pack.exact_tokens
    if diff == 0:
        off = "exact"
    else:
        share = f" ({diff / pack.exact_tokens:+.0%})" if pack.exact_tokens else ""
        off = f"{abs(diff):,} too {'many' if diff > 0 else 'few'}{share}"
    return (
        f"server's context-pack · {pack.exact_tokens:,} tokens exact ({pack.encoding}) · "
        f"its estimate {pack.server_tokens:,} ({pack.server_estimator}): {off} · "
        f"budget {pack.budget_tokens:,} · {pack.item_count:,} items"
    )


def file_name_part(text: str) -> str:
    """A stored id as part of a suggested file name: letters, digits, `-_.` kept, any
    other run (controls, `/`, spaces, brackets) one `_`; at most 80 characters."""
    part = re.sub(r"[^\w.-]+", "_", text, flags=re.ASCII).strip("._")
    return part[:80] or "session"


def describe_write_error(path: Path, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"Not saved: the directory {path.parent} does not exist."
    if isinstance(error, IsADirectoryError):
        return f"Not saved: {path} is a directory."
    if isinstance(error, PermissionError):
        return f"Not saved: permission denied for {path}."
    if isinstance(error, NotADirectoryError):
        return f"Not saved: a part of {path.parent} is a file, not a directory."
    reason = error.strerror or str(error)
    return f"Not saved to {path}: {reason}."


class ContextPreviewPane(SessionPane):
    """Pane 4: the session's LLM-ready context, live, within an exact token budget."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    HELP = """\
# Context preview

Exactly what `memtui context SESSION_ID` prints for the selected session: markdown
grouped by memory type, ready to paste into an LLM prompt.

| key | action |
|---|---|
| tab / shift+tab | move between the filters and the preview |
| esc | leave a filter (back to the preview) |
| c | copy the context to the clipboard |
| m | MemoryLayer: show the server's own context-pack (and back) |
| s | save the context to a file |
| v | switch between rendered markdown and raw text |
| x | explain: tokens per section, what was left out and why |
| enter | (in explain) show the memory left out in the timeline |

**Filters** update the preview as you type (after a short pause):

- **since / until**: relative (`30m`, `2h`, `7d`, `1w`, `45s`) or ISO 8601
  (`2026-03-14T09:00`).
- **types / exclude**: comma-separated memory types; the known types are listed.
- **max tokens**: the exact budget, counted with tiktoken over the whole markdown,
  headings included. Leave it empty for no budget.
- **order** (newest or oldest first) and **encoding** (`cl100k_base`, `o200k_base`).
- **as of**: the context as it would have been built at that time (`2h`, or ISO 8601),
  rebuilt from history; since/until then count back from it. Empty: now.

The **gauge** shows the tokens used against the budget and how many memories were
left out; the most important, then the most recent, memories are kept.

**Explain** (x) shows a bar of the tokens each section costs, the budget raise that
would take in the next memories, and every memory left out with its reason: before or
after the window, its type excluded or not included, did not fit the budget, or not
reached (the budget was full). Enter on one shows it in the timeline.

**Copy** uses the terminal (OSC 52, which works over SSH) and, where one exists, the
system clipboard too. The toast says which.

**m** (MemoryLayer only) shows the server's own context-pack for the session instead,
within the max tokens: the gauge sets memtui's exact token count of it beside the
server's own estimate (characters / 3), so you see how far off that estimate is. The
other filters do not apply to it; copy and save take what is shown.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="context-copy"),
        Binding("m", "toggle_server_context", "Server's pack", id="context-server-pack"),
        Binding("s", "save_to_file", "Save to file", id="context-save"),
        Binding("v", "toggle_view", "Raw/rendered", id="context-toggle-view"),
        Binding("x", "toggle_explain", "Explain", id="context-explain"),
        Binding("escape", "focus_preview", "Back to preview", id="context-focus-preview"),
    ]

    def __init__(self) -> None:
        super().__init__(id="context-preview")
        self._session_id: str | None = None
        self._result: ContextResult | None = None
        self._generation = 0
        self._debounce: Timer | None = None
        self._rendered = True
        self._server_mode = False  # showing the server's own context (SERVER_CONTEXT)
        self._server_pack: ServerContext | None = None
        self._markdown_text: str | None = None  # what the Markdown widget shows
        self._budget_supported = True
        self._explaining = False
        self._explain_supported: bool | None = None  # None: not known yet

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="cp-message", id="cp-switcher"):
            yield Static("Select a session to preview its context.", id="cp-message")
            with Vertical(id="cp-main"):
                # The preview comes first in focus order (tab lands there, not in a
                # filter); the filters are docked above it.
                with ContentSwitcher(initial="cp-rendered-scroll", id="cp-view"):
                    with VerticalScroll(id="cp-rendered-scroll"):
                        # Links in stored text are shown, never opened by a click.
                        yield Markdown("", id="cp-rendered", open_links=False)
                    yield TextArea(
                        "", read_only=True, soft_wrap=True, id="cp-raw", show_cursor=True
                    )
                    yield ContextExplainView(id="cp-explain")
                with Vertical(id="cp-top"):
                    with Grid(id="cp-controls"):
                        yield Label("since", classes="cp-label")
                        yield Input(placeholder="e.g. 4h", id="cp-since", compact=True)
                        yield Label("until", classes="cp-label")
                        yield Input(placeholder="now", id="cp-until", compact=True)
                        yield Label("order", classes="cp-label")
                        yield Select(
                            [("newest first", Order.DESC.value), ("oldest first", Order.ASC.value)],
                            value=Order.DESC.value,
                            allow_blank=False,
                            id="cp-order",
                            compact=True,
                        )
                        yield Label("types", classes="cp-label")
                        yield Input(placeholder="all types", id="cp-include", compact=True)
                        yield Label("exclude", classes="cp-label")
                        yield Input(placeholder="none", id="cp-exclude", compact=True)
                        yield Label("encoding", classes="cp-label")
                        yield Select(
                            [(name, name) for name in ENCODINGS],
                            value=DEFAULT_ENCODING,
                            allow_blank=False,
                            id="cp-encoding",
                            compact=True,
                        )
                        yield Label("max tokens", classes="cp-label")
                        yield Input(
                            str(DEFAULT_MAX_TOKENS),
                            placeholder="no budget",
                            id="cp-max-tokens",
                            compact=True,
                            restrict=r"[0-9]*",
                        )
                        yield Label("as of", classes="cp-label")
                        yield Input(placeholder="now", id="cp-as-of", compact=True)
                        yield Static("", id="cp-types-hint")
                    yield Static("", id="cp-error")
                    with Horizontal(id="cp-gauge-row"):
                        yield ProgressBar(
                            total=DEFAULT_MAX_TOKENS,
                            show_eta=False,
                            show_percentage=False,
                            id="cp-gauge",
                        )
                        yield Static("building…", id="cp-gauge-label")

    # --- state -------------------------------------------------------------------------

    @property
    def result(self) -> ContextResult | None:
        """The context currently shown (None before the first build)."""
        return self._result

    @property
    def preview_text(self) -> str:
        return self._result.context if self._result else ""

    def _show_message(self, text: str) -> None:
        self.query_one("#cp-message", Static).update(block(text))
        self.query_one("#cp-switcher", ContentSwitcher).current = "cp-message"

    def watch_session(self, session: Session | None) -> None:
        new_id = session.id if session else None
        if new_id == self._session_id and new_id is not None:
            self._schedule_build()
            return
        self._session_id = new_id
        self._result = None
        self._markdown_text = None
        if new_id is None:
            self._show_message("Select a session to preview its context.")
            return
        self.query_one("#cp-switcher", ContentSwitcher).current = "cp-main"
        self.query_one("#cp-gauge-label", Static).update("building…")
        self._load_types(new_id)
        self._build_now()

    # --- building ----------------------------------------------------------------------

    @on(Input.Changed, "#cp-controls Input")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.input.remove_class("-invalid")
        self._schedule_build()

    @on(Input.Submitted, "#cp-controls Input")
    def _filter_submitted(self) -> None:
        self._build_now()

    @on(Select.Changed, "#cp-controls Select")
    def _select_changed(self) -> None:
        self._schedule_build()

    def _schedule_build(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._debounced_build)

    @when_alive
    def _debounced_build(self) -> None:
        self._build_now()

    def _build_now(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        session_id = self._session_id
        if session_id is None:
            return
        request = self._read_request()
        if request is None:
            return
        self._generation += 1
        if self._server_mode:
            budget = request.max_tokens or DEFAULT_MAX_TOKENS
            self._server_worker(session_id, budget, request.encoding, self._generation)
            return
        self._build_worker(session_id, request, self._generation)

    def _read_request(self) -> ContextRequest | None:
        """The filters as a request; None (with the input marked) if max_tokens is bad."""
        max_input = self.query_one("#cp-max-tokens", Input)
        max_text = max_input.value.strip()
        max_tokens: int | None = None
        if max_text and self._budget_supported:
            try:
                max_tokens = int(max_text)
            except ValueError:
                max_tokens = 0
            if max_tokens <= 0:
                self._show_filter_error(
                    f"max tokens must be a positive whole number, not {max_text!r}",
                    "#cp-max-tokens",
                )
                return None
        order = self.query_one("#cp-order", Select).value
        encoding = self.query_one("#cp-encoding", Select).value
        return ContextRequest(
            since=self.query_one("#cp-since", Input).value.strip() or None,
            until=self.query_one("#cp-until", Input).value.strip() or None,
            include_types=split_types(self.query_one("#cp-include", Input).value),
            exclude_types=split_types(self.query_one("#cp-exclude", Input).value),
            max_tokens=max_tokens,
            order=str(order) if isinstance(order, str) else Order.DESC.value,
            encoding=str(encoding) if isinstance(encoding, str) else DEFAULT_ENCODING,
            as_of=self.query_one("#cp-as-of", Input).value.strip() or None,
        )

    @work(thread=True, exclusive=True, group="context-build", exit_on_error=False)
    def _build_worker(self, session_id: str, request: ContextRequest, generation: int) -> None:
        explanation: ContextExplanation | None = None
        try:
            result = self.backend.build_context(session_id, request)
            if self._explaining and Capability.CONTEXT_EXPLAIN in self.backend.capabilities():
                explanation = self.backend.explain_context(session_id, request)
        except MemtuiError as error:
            self.deliver(self._build_failed, session_id, generation, error)
            return
        except Exception as error:  # a bug, not bad input: still a message, not a traceback
            wrapped = MemtuiError(f"unexpected {type(error).__name__}: {error}")
            self.deliver(self._build_failed, session_id, generation, wrapped)
            return
        self.deliver(self._show_result, session_id, generation, result)
        if self._explaining:
            self.deliver(self._show_explanation, session_id, generation, explanation)

    @work(thread=True, exclusive=True, group="context-build", exit_on_error=False)
    def _server_worker(self, session_id: str, budget: int, encoding: str, generation: int) -> None:
        try:
            pack = self.backend.server_context(session_id, budget_tokens=budget, encoding=encoding)
        except MemtuiError as error:
            self.deliver(self._build_failed, session_id, generation, error)
            return
        except Exception as error:  # a bug, not bad input: still a message
            wrapped = MemtuiError(f"unexpected {type(error).__name__}: {error}")
            self.deliver(self._build_failed, session_id, generation, wrapped)
            return
        result = ContextResult(
            session_id=session_id,
            context=pack.text,
            memory_count=pack.item_count,
            token_count=pack.exact_tokens,
            max_tokens=pack.budget_tokens,
            truncated=False,
            omitted_count=0,
            encoding=pack.encoding,
        )
        self.deliver(self._show_result, session_id, generation, result, pack)

    def _is_current(self, session_id: str, generation: int) -> bool:
        return session_id == self._session_id and generation == self._generation

    def _build_failed(self, session_id: str, generation: int, error: MemtuiError) -> None:
        if not self._is_current(session_id, generation):
            return
        selector = None
        if isinstance(error, InvalidInputError):
            selector = _FIELD_INPUTS.get(error.field or "")
            if selector is None and error.field and "type" in error.field:
                selector = "#cp-include"
        self._show_filter_error(str(error), selector)

    def _show_filter_error(self, message: str, selector: str | None) -> None:
        """The message names the bad value; the input keeps its text, marked invalid."""
        error_line = self.query_one("#cp-error", Static)
        error_line.update(block(f"⚠ {message}"))  # it quotes what was typed
        if selector is not None:
            self.query_one(selector, Input).add_class("-invalid")

    def _clear_filter_error(self) -> None:
        error_line = self.query_one("#cp-error", Static)
        error_line.update("")
        for field in self.query("#cp-controls Input"):
            field.remove_class("-invalid")

    def _show_result(
        self,
        session_id: str,
        generation: int,
        result: ContextResult,
        pack: ServerContext | None = None,
    ) -> None:
        if not self._is_current(session_id, generation):
            return  # a newer build (or another session) has taken over
        self._clear_filter_error()
        changed = self._result is None or self._result.context != result.context
        self._result = result
        self._server_pack = pack
        self._update_gauge(result)
        if changed:
            raw = self.query_one("#cp-raw", TextArea)
            scroll_y = raw.scroll_y
            # Shown with control characters visible; copy and save use the exact text.
            raw.load_text(visible_text(result.context))
            raw.scroll_to(y=scroll_y, animate=False)
            if self._rendered:
                self._update_markdown()

    def _show_explanation(
        self, session_id: str, generation: int, explanation: ContextExplanation | None
    ) -> None:
        if not self._is_current(session_id, generation):
            return
        view = self.query_one("#cp-explain", ContextExplainView)
        if explanation is None:
            self._explain_supported = False
            view.show_message(
                f"{self.backend.describe()} cannot explain its context "
                "(it has no context explanations); the preview above is still exact."
            )
            return
        self._explain_supported = True
        view.show(explanation)

    @property
    def explanation(self) -> ContextExplanation | None:
        """The explanation shown (None unless the explain view is on and built)."""
        if not self._explaining:
            return None
        return self.query_one("#cp-explain", ContextExplainView).explanation

    @property
    def showing_explain(self) -> bool:
        return self._explaining

    def _update_gauge(self, result: ContextResult) -> None:
        gauge = self.query_one("#cp-gauge", ProgressBar)
        label = self.query_one("#cp-gauge-label", Static)
        text = describe_gauge(result)
        as_of = self.query_one("#cp-as-of", Input).value.strip()
        if as_of:
            text += f" · as of {visible_line(as_of)} (from history)"
        if not self._budget_supported:
            text += " · this server does not count tokens against a budget"
        label.update(text)
        if self._server_pack is not None:  # the server's pack beside memtui's count
            label.update(describe_server_gauge(self._server_pack))
        if result.max_tokens:
            gauge.display = True
            gauge.update(total=result.max_tokens, progress=result.token_count)
            # The bar rounds its value to half cells only once it has a size, so the
            # same result drew differently depending on whether the gauge had been laid
            # out yet; set the exact fraction on it, drawn the same every time.
            for bar in gauge.query("#bar"):
                bar.set_reactive(type(bar).percentage, gauge.percentage)  # type: ignore[attr-defined]
                bar.refresh()
            used = result.token_count / result.max_tokens
            gauge.set_class(used >= 0.9, "-full")
        else:
            gauge.display = False

    def _update_markdown(self) -> None:
        text = self.preview_text
        if text == self._markdown_text:
            return
        self._markdown_text = text
        scroll = self.query_one("#cp-rendered-scroll", VerticalScroll)
        scroll_y = scroll.scroll_y
        self.query_one("#cp-rendered", Markdown).update(visible_text(text))
        self.call_after_refresh(scroll.scroll_to, y=scroll_y, animate=False)

    @on(Markdown.LinkClicked, "#cp-rendered")
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.notify(f"Link (not opened): {event.href}", title="Context", timeout=8)

    # --- memory types and capabilities -------------------------------------------------

    @work(thread=True, exclusive=True, group="context-types", exit_on_error=False)
    def _load_types(self, session_id: str) -> None:
        try:
            capabilities = self.backend.capabilities()
            types = self.backend.list_memory_types(session_id=session_id)
        except MemtuiError:
            return  # the hint is a nicety; the build reports real problems
        except Exception:
            return
        self.deliver(self._show_types, session_id, types, capabilities)

    def _show_types(self, session_id: str, types: list[str], capabilities: frozenset[str]) -> None:
        if session_id != self._session_id:
            return
        # Memory types are stored text: never markup.
        self.query_one("#cp-types-hint", Static).update(line("known: " + ", ".join(types)))
        as_of_input = self.query_one("#cp-as-of", Input)
        as_of_input.disabled = Capability.HISTORY not in capabilities
        if as_of_input.disabled:
            as_of_input.tooltip = "This backend keeps no history: no context as of a past time."
        supported = Capability.CONTEXT_BUDGET in capabilities
        if supported != self._budget_supported:
            self._budget_supported = supported
            max_input = self.query_one("#cp-max-tokens", Input)
            max_input.disabled = not supported
            if not supported:
                max_input.tooltip = "This server ignores max_tokens."
            self._build_now()

    # --- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In a filter input the letters are typed; esc leaves the input first.
        focused = self.app.focused
        if action in _LETTER_ACTIONS and isinstance(focused, Input):
            return False
        if action == "focus_preview":
            return isinstance(focused, Input | Select)
        if action == "toggle_server_context":
            # Only where the server has a context builder of its own (MemoryLayer);
            # in a filter input the letter is typed.
            return not isinstance(focused, Input) and self.services.has_capability(
                Capability.SERVER_CONTEXT
            )
        return True

    def action_focus_preview(self) -> None:
        target: Widget
        if self._explaining:
            target = self.query_one("#cx-omitted")
        elif self._rendered:
            target = self.query_one("#cp-rendered-scroll", VerticalScroll)
        else:
            target = self.query_one("#cp-raw", TextArea)
        if self.app.focused is target:
            raise SkipAction()  # already there: escape goes on, to the session list
        target.focus()

    def action_toggle_view(self) -> None:
        if self._explaining:
            self._explaining = False
        else:
            self._rendered = not self._rendered
        self._show_view()

    def _show_view(self) -> None:
        view = self.query_one("#cp-view", ContentSwitcher)
        if self._explaining:
            view.current = "cp-explain"
        else:
            view.current = "cp-rendered-scroll" if self._rendered else "cp-raw"
            if self._rendered:
                self._update_markdown()
        self.action_focus_preview()

    def action_toggle_explain(self) -> None:
        self._explaining = not self._explaining
        self._show_view()
        if self._explaining:
            self._build_now()

    @on(ContextExplainView.ShowMemory)
    def _show_memory(self, event: ContextExplainView.ShowMemory) -> None:
        event.stop()
        self.services.show_memory_in_timeline(event.memory_id)

    @property
    def showing_rendered(self) -> bool:
        return self._rendered

    @property
    def server_pack(self) -> ServerContext | None:
        """The server's context-pack shown now (None: memtui's own context)."""
        return self._server_pack

    def action_toggle_server_context(self) -> None:
        """MemoryLayer: the server's own context-pack instead of memtui's context, with
        memtui's exact count beside the server's estimate; again for memtui's."""
        from memtui.tui.unsupported import refuse_unsupported

        if refuse_unsupported(self, Capability.SERVER_CONTEXT):
            return
        self._server_mode = not self._server_mode
        self.query_one("#cp-gauge-label", Static).update("building…")
        self.notify(
            "Showing the server's own context-pack (m: back to memtui's)."
            if self._server_mode
            else "Showing memtui's context.",
            title="Context",
            timeout=3,
        )
        self._build_now()

    def action_copy(self) -> None:
        result = self._result
        if result is None:
            self.notify("Nothing to copy yet: select a session.", severity="warning")
            return
        text = result.context
        # OSC 52 first: it works over SSH, and app.clipboard keeps the text.
        self.app.copy_to_clipboard(text)
        self._system_copy_worker(text, result.token_count)

    @work(thread=True, group="context-copy", exit_on_error=False)
    def _system_copy_worker(self, text: str, token_count: int) -> None:
        tokens = f"{token_count:,} tokens"
        try:
            from memtui.clipboard import copy_to_system_clipboard

            copy_to_system_clipboard(text)
        except (MemtuiError, ImportError) as error:
            self.deliver(
                self.notify,
                f"Copied {tokens} via the terminal (OSC 52) only: no system clipboard here "
                f"({error}). Most terminals, also over SSH, pass it on.",
                title="Copied via OSC 52",
                timeout=8,
            )
            return
        except Exception as error:  # pyperclip can fail in surprising ways
            self.deliver(
                self.notify,
                f"Copied {tokens} via the terminal (OSC 52) only: the system clipboard "
                f"failed ({type(error).__name__}: {error}).",
                title="Copied via OSC 52",
                timeout=8,
            )
            return
        self.deliver(self.notify, f"Copied {tokens} to the clipboard.", title="Copied")

    def action_save_to_file(self, path_text: str | None = None) -> None:
        result = self._result
        if result is None or self._session_id is None:
            self.notify("Nothing to save yet: select a session.", severity="warning")
            return
        default = path_text or f"context-{file_name_part(self._session_id)}.md"

        def chosen(text: str | None) -> None:
            if text is None or not text.strip():
                return
            path = Path(text.strip()).expanduser()
            if not path.is_absolute():
                path = Path.cwd() / path
            if path.is_file():

                def confirmed(yes: bool | None) -> None:
                    if yes:
                        self._write_worker(path, result, text)
                    else:
                        self.action_save_to_file(text)

                self.app.push_screen(
                    ConfirmScreen(
                        "Overwrite the file?", f"{path} exists.", confirm_label="Overwrite"
                    ),
                    confirmed,
                )
                return
            self._write_worker(path, result, text)

        self.app.push_screen(
            PromptScreen(
                "Save the context to a file",
                value=default,
                hint=f"A path, relative to {Path.cwd()}",
                submit_label="Save",
            ),
            chosen,
        )

    @work(thread=True, group="context-save", exit_on_error=False)
    def _write_worker(self, path: Path, result: ContextResult, typed: str) -> None:
        mark_current_worker_as_write()  # quitting waits for the file
        try:
            # newline="": the file holds exactly the preview text, on every platform.
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write(result.context)
        except OSError as error:
            self.deliver(self._write_failed, path, error, typed)
            return
        self.deliver(self.notify, f"Saved {result.token_count:,} tokens to {path}.", title="Saved")

    def _write_failed(self, path: Path, error: OSError, typed: str) -> None:
        self.notify(describe_write_error(path, error), severity="error", timeout=8)
        self.action_save_to_file(typed)  # ask again, with the path as typed

    # --- live refresh ------------------------------------------------------------------

    def on_store_changed(self, message: StoreChanged) -> None:
        if self._session_id is not None and message.touches_session(self._session_id):
            self._schedule_build()

    def palette_commands(self) -> Iterable[SystemCommand]:
        return [
            SystemCommand(
                "Context: copy to clipboard", "Copy the context markdown (c)", self.action_copy
            ),
            SystemCommand(
                "Context: save to file", "Write the context to a file (s)", self.action_save_to_file
            ),
            SystemCommand(
                "Context: explain",
                "Tokens per section, what was left out and why (x)",
                self.action_toggle_explain,
            ),
            SystemCommand(
                "Context: toggle raw / rendered",
                "Show raw markdown or rendered (v)",
                self.action_toggle_view,
            ),
            SystemCommand(
                "Context: the server's own context-pack",
                "MemoryLayer's context-pack beside memtui's exact count (m)",
                self.action_toggle_server_context,
            ),
        ]
