"""Copy text to the system clipboard (pyperclip), with a clear error when there is none.

Shared by `memtui context --copy` and the TUI's context preview.
"""

from __future__ import annotations

from memtui.domain.errors import MemtuiError

NO_CLIPBOARD_MESSAGE = (
    "no clipboard available: install xclip/xsel or wl-clipboard, or pipe the output instead"
)


class ClipboardUnavailableError(MemtuiError):
    """No copy mechanism exists here (e.g. a headless Linux box without xclip)."""


def copy_to_system_clipboard(text: str) -> None:
    """Raises ClipboardUnavailableError (a MemtuiError) when copying is impossible."""
    import pyperclip  # imported on use: it probes the platform at import time

    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException as exc:
        if "could not find a copy/paste mechanism" in str(exc):
            raise ClipboardUnavailableError(NO_CLIPBOARD_MESSAGE) from exc
        raise ClipboardUnavailableError(f"could not copy to the clipboard: {exc}") from exc
    except OSError as exc:  # the helper program (xclip, wl-copy…) failed to run
        raise ClipboardUnavailableError(f"could not copy to the clipboard: {exc}") from exc
