"""Panes' state without their widgets: plain classes, tested without an App (no Textual
here; an import-linter contract keeps it so)."""
