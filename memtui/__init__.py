"""memtui: a terminal UI for inspecting and managing what AI agents remember."""

__version__ = "0.1.0"
