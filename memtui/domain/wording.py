"""Counted nouns for messages: "1 memory", "2 memories", "1 selected memory"."""

from __future__ import annotations

IRREGULAR = {"memory": "memories", "entry": "entries", "key": "keys"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and the noun, singular for exactly one (`plural(1, "memory")` is
    "1 memory"); the last word is the one made plural ("selected memory")."""
    if count == 1:
        return f"{count:,} {noun}"
    if many is None:
        head, _, last = noun.rpartition(" ")
        word = IRREGULAR.get(last) or (last[:-1] + "ies" if last.endswith("y") else last + "s")
        many = f"{head} {word}" if head else word
    return f"{count:,} {many}"
