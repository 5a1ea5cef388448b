"""The rules of the server dialects (memtui.domain.dialects), without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memtui.domain.dialects import memanto, memorylayer
from memtui.domain.errors import AuthError

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expires_in", "extend_seconds", "added"),
    [
        (timedelta(hours=2), 60, None),  # ends later than now + 1 min: never shortened
        (timedelta(hours=1), 3600, None),  # exactly now + N: nothing to add
        (timedelta(minutes=10), 3600, timedelta(minutes=50)),
        (-timedelta(minutes=5), 600, timedelta(minutes=15)),  # expired: to now + N
    ],
)
def test_touch_extends_to_now_plus_n_and_never_shortens(
    expires_in: timedelta, extend_seconds: int, added: timedelta | None
) -> None:
    assert memorylayer.touch_extension(NOW + expires_in, NOW, extend_seconds) == added


def test_touch_leaves_a_session_that_never_expires() -> None:
    assert memorylayer.touch_extension(None, NOW, 60) is None


def test_memtui_types_are_reported_as_the_nearest_memorylayer_type() -> None:
    assert memorylayer.reported_type("procedural") == ("procedural", None)
    assert memorylayer.reported_type("decision") == ("semantic", "decision")
    assert memorylayer.reported_type("session") == ("working", "session")
    assert memorylayer.reported_type("my.type") == ("semantic", "my.type")
    known = ["decision", "entity", "episodic", "session", "x"]
    assert memorylayer.memtui_types_for("semantic", known) == ("decision", "entity", "x")
    assert memorylayer.memtui_types_for("working", known) == ("session",)


def test_requested_keys_split_the_clients_comma_list_unless_a_key_holds_the_comma() -> None:
    assert memorylayer.requested_keys("a", ["a"]) == ["a"]
    assert memorylayer.requested_keys("a,b", ["a", "b"]) == ["a", "b"]
    assert memorylayer.requested_keys("a,b", ["a,b", "a"]) == ["a,b"]
    assert memorylayer.requested_keys("a,,b", []) == ["a", "b"]


def test_recall_ranks_by_the_share_of_query_words_then_frequency_then_order() -> None:
    texts = ["lunch at noon", "auth", "AUTH tokens", "auth auth tokens", "tokens"]
    ranked = memorylayer.rank_by_relevance("auth tokens", texts)
    assert [texts[r.index] for r in ranked] == [
        "auth auth tokens",
        "AUTH tokens",
        "auth",
        "tokens",
    ]
    assert [r.score for r in ranked] == [1.0, 1.0, 0.5, 0.5]
    assert memorylayer.rank_by_relevance("  ?! ", texts) == []


def test_memanto_claims_name_the_agent_and_session() -> None:
    claims = memanto.token_claims("bot", "sess_1", NOW, NOW + memanto.SESSION_WINDOW)
    assert claims["exp"] - claims["iat"] == 6 * 3600
    assert memanto.claimed_session(claims) == ("bot", "sess_1")
    with pytest.raises(AuthError, match="names no agent"):
        memanto.claimed_session({**claims, "session_id": None})
    with pytest.raises(AuthError, match="subject"):
        memanto.claimed_session({**claims, "sub": "other"})


def test_memanto_marks_its_sessions_and_counts_time_left() -> None:
    marker = memanto.session_metadata("bot")
    assert memanto.is_memanto_session(marker)
    assert not memanto.is_memanto_session({}) and not memanto.is_memanto_session(None)
    assert not memanto.is_memanto_session({"memanto": "issued"})
    assert memanto.time_remaining(NOW + timedelta(minutes=61, seconds=5), NOW) == (61, 3665)
    assert memanto.time_remaining(NOW - timedelta(seconds=1), NOW) == (0, 0)
    assert memanto.duration_hours(NOW, NOW + timedelta(minutes=90)) == 1.5
