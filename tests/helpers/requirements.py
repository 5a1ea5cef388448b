"""What a contract test needs beyond the core, for `@pytest.mark.requires(...)`
(tests/contract/conftest.py skips a kind that lacks any of it, naming what it lacks).

Besides `Capability` values: TEST_CLOCK, the backend follows the clock the test moves
(a real MemoryLayer server keeps its own time).
"""

from __future__ import annotations

import pytest

from memtui.domain.models import Capability

TEST_CLOCK = "test_clock"


class NoTestClock(Exception):  # noqa: N818 - reads as the reason a test is skipped
    """Raised by a kind's clock that the test cannot move (a real server's time)."""


requires = pytest.mark.requires

__all__ = ["TEST_CLOCK", "Capability", "NoTestClock", "requires"]
