"""Issue 8 item 12 in the TUI: a store with a damaged page in the middle is refused
when it opens, said in the status bar and a toast, and never written."""

from __future__ import annotations

import hashlib
from pathlib import Path

from memtui.connect import BackendTarget
from tests.store.test_damaged_readonly_locked import make_store, overwrite_page, root_page
from tests.tui.conftest import SIZE, toasts


async def test_a_damaged_store_is_refused_with_a_clear_message(make_app, settle, tmp_path):
    path = tmp_path / "damaged.db"
    make_store(path)
    overwrite_page(path, root_page(path, "memory"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    app = make_app(target=BackendTarget(db_url=f"sqlite:///{path}"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=4)
        assert app.fatal_error is not None
        assert "Cannot open the store" in app.fatal_error and "is damaged" in app.fatal_error
        assert app.status_bar.state == "error"
        assert any("is damaged" in message for message in toasts(app))
        assert app.backend is None  # nothing opened, nothing can write
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == before
