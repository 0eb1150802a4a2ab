"""The one time helper: one timestamp shape out, ISO / HTTP dates / Retry-After in."""

from datetime import UTC, datetime, timedelta, timezone

from wirewatch.timeutil import iso, parse, parse_http_date, parse_retry_after, utc_now

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_iso_is_utc_with_microseconds_and_z_whatever_the_zone():
    plus_two = timezone(timedelta(hours=2))
    assert iso(datetime(2025, 1, 1, 14, 0, 5, tzinfo=plus_two)) == "2025-01-01T12:00:05.000000Z"
    assert iso(datetime(2025, 1, 1, 12, 0, 5, 7)) == "2025-01-01T12:00:05.000007Z"  # naive is UTC
    assert iso().endswith("Z") and len(iso()) == len("2025-01-01T12:00:05.000000Z")
    assert utc_now().tzinfo is UTC


def test_parse_reads_what_iso_writes_and_the_w3c_forms():
    ts = datetime(2025, 1, 1, 12, 0, 5, 123456, tzinfo=UTC)
    assert parse(iso(ts)) == ts
    assert parse("2026-11-24") == datetime(2026, 11, 24, tzinfo=UTC)
    assert parse("2026-11-24T08:15:04+01:00") == datetime(2026, 11, 24, 7, 15, 4, tzinfo=UTC)
    assert parse("2026-11-24T08:15:04") == datetime(2026, 11, 24, 8, 15, 4, tzinfo=UTC)
    assert parse("yesterday") is None and parse("") is None and parse(None) is None


def test_http_dates_in_all_three_forms():
    want = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == want
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == want
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == want
    assert parse_http_date("not a date") is None


def test_retry_after_seconds_and_dates():
    assert parse_retry_after("30", NOW) == 30.0
    assert parse_retry_after(" 120 ", NOW) == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", NOW) == 60.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", NOW) == 0.0  # in the past: now
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_iso_precisions_truncate_and_keep_the_z():
    ts = datetime(2025, 1, 1, 12, 0, 5, 987654, tzinfo=UTC)
    assert iso(ts, "seconds") == "2025-01-01T12:00:05Z"  # never rounded up to :06
    assert iso(ts, "milliseconds") == "2025-01-01T12:00:05.987Z"
    assert iso(ts, "microseconds") == iso(ts) == "2025-01-01T12:00:05.987654Z"
    # seconds is the shape story first_at/last_at were always stored in (compared as TEXT)
    assert iso(ts, "seconds") == ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse(iso(ts, "seconds")) == ts.replace(microsecond=0)


def test_sqlite_column_text_is_the_shape_stored_rows_always_had():
    # SQLite compares stored times as TEXT: the helper must write exactly what isoformat wrote
    for ts in (datetime(2025, 1, 1, 12, 0, 5, tzinfo=UTC), datetime(2026, 12, 6, 3, 4, 5, 60, tzinfo=UTC)):
        old = ts.isoformat(timespec="microseconds")
        assert iso(ts, zone="+00:00") == old
    earlier, later = datetime(2025, 1, 1, 12, 0, 5, 999999, tzinfo=UTC), datetime(2025, 1, 1, 12, 0, 6, tzinfo=UTC)
    mixed = [iso(later, zone="+00:00"), earlier.isoformat(timespec="microseconds")]
    assert sorted(mixed) == [earlier.isoformat(timespec="microseconds"), iso(later, zone="+00:00")]


def test_years_before_1000_are_padded_like_iso_8601():
    assert iso(datetime(999, 1, 2, tzinfo=UTC), "seconds") == "0999-01-02T00:00:00Z"
