"""Digest windows: the ids and times a digest carries may never change shape between versions."""

from datetime import UTC, datetime

from wirewatch.stages.throttle import digest_id, make_digest

START, END = datetime(2026, 12, 6, 3, 0, tzinfo=UTC), datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def test_digest_id_of_a_window_is_pinned():
    # pinned from the release before timeutil: a new id for a delivered window would send it twice
    assert digest_id("killed_ge10", "ops", START) == "e9ecc37d04369fee09b8adac"


def test_digest_window_times_are_whole_seconds_with_a_z():
    digest = make_digest("killed_ge10", "high", "ops", START, END, [], 0, "2026-12-06T04:00:01.000000Z")
    assert digest["alert_id"] == "e9ecc37d04369fee09b8adac"
    assert (digest["window_start"], digest["window_end"]) == ("2026-12-06T03:00:00Z", "2026-12-06T04:00:00Z")
    assert digest["title"].endswith("between 2026-12-06T03:00:00Z and 2026-12-06T04:00:00Z")
