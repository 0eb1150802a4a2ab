"""sources.schedule: when the next poll happens, from headers and hints, always within bounds."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from wirewatch.sources.schedule import Bounds, cache_lifetime, error_delay, next_delay, retry_after

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
B = Bounds(min_interval=60, max_interval=3600, backoff_max=6 * 3600)


def http_date(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


def test_no_hints_means_the_configured_interval():
    assert next_delay(300, B, {}, NOW) == 300


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Cache-Control": "public, max-age=900"}, 900),
        ({"cache-control": "s-maxage=1200, max-age=30"}, 1200),
        ({"Cache-Control": "max-age=60"}, 300),  # a short lifetime never speeds us up
        ({"Cache-Control": "no-cache"}, 300),
        ({"Expires": http_date(NOW + timedelta(minutes=20)), "Date": http_date(NOW)}, 1200),
        ({"Retry-After": "1800"}, 1800),
        ({"Retry-After": http_date(NOW + timedelta(seconds=2400))}, 2400),
        ({"Cache-Control": "max-age=86400"}, 3600),  # clamped to max_interval
    ],
)
def test_publisher_hints_lengthen_the_interval_within_bounds(headers, expected):
    assert next_delay(300, B, headers, NOW) == expected


def test_rss_ttl_is_a_hint_and_bounds_hold_both_ways():
    assert next_delay(300, B, {}, NOW, ttl=45 * 60) == 2700
    assert next_delay(5, B, {}, NOW) == 60  # a typo'd interval cannot hammer a site


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({}, None),
        ({"Cache-Control": "max-age=abc"}, None),
        ({"Cache-Control": "no-store"}, 0.0),
        ({"Expires": "0"}, 0.0),
        ({"Expires": http_date(NOW - timedelta(hours=1))}, 0.0),
    ],
)
def test_cache_lifetime_edge_cases(headers, expected):
    assert cache_lifetime(headers, NOW) == expected


def test_retry_after_forms():
    assert retry_after({"Retry-After": "120"}, NOW) == 120
    assert retry_after({"Retry-After": "soon"}, NOW) is None
    assert retry_after({"Retry-After": http_date(NOW - timedelta(minutes=1))}, NOW) == 0
    assert retry_after({}, NOW) is None


def test_errors_back_off_exponentially_and_never_stop():
    # Doubling ceilings with full jitter (retry.backoff): each delay lies in [ceiling / 2, ceiling].
    for n, ceiling in enumerate([300, 600, 1200, 2400], start=1):
        assert all(ceiling / 2 <= error_delay(n, 300, B, None, NOW) <= ceiling for _ in range(20))
    # the ten-thousandth failure still has a next try, near the ceiling
    assert all(B.backoff_max / 2 <= error_delay(10_000, 300, B, None, NOW) <= B.backoff_max for _ in range(20))


def test_error_backoff_honours_retry_after_up_to_the_ceiling():
    assert error_delay(1, 300, B, {"Retry-After": "7200"}, NOW) == 7200  # a floor above the backoff
    assert 150 <= error_delay(1, 300, B, {"Retry-After": "10"}, NOW) <= 300  # never sooner than the backoff
    assert error_delay(1, 300, B, {"Retry-After": "999999"}, NOW) == B.backoff_max
