"""memtui over a real MemoryLayer server (`memorylayer-server` 0.2.0).

`MemoryLayerBackend(url, api_key=..., clock=...)` is a Backend (api: the server's
routes over memtui's Transport; mapping: its JSON as memtui's models; detect: telling
a MemoryLayer server from its routes, since its /health says only "healthy").
`memtui --server URL` finds it on its own (HttpBackend asks); `--backend memorylayer`
skips the question.
"""

from memtui.remote.memorylayer.backend import CAPABILITIES, MemoryLayerBackend
from memtui.remote.memorylayer.detect import is_memorylayer

__all__ = ["CAPABILITIES", "MemoryLayerBackend", "is_memorylayer"]
