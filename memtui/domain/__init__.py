"""Plain domain logic shared by the TUI, the server and the CLI.

Nothing under memtui.domain may import textual, sqlmodel, sqlalchemy or httpx.
"""
