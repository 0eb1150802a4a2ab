"""Time in one shape: every timestamp wirewatch writes, and the HTTP dates and Retry-After it reads.

    utc_now()                   the current time, aware, in UTC
    iso(ts=None, precision)     "2026-12-06T02:27:19.123456Z": UTC, microseconds, a Z; one precision,
                                so timestamps from any stage sort and compare as text. Two places keep
                                a coarser precision on purpose (precision="seconds" / "milliseconds"):
                                  seconds: story first_at/last_at (stored and compared as TEXT, so the
                                    stored shape is frozen), alert digest windows (window_start/_end,
                                    shown in titles) and the API's public times (its documented shape)
                                  milliseconds: the JSON log line's "time" (what log shippers expect)
    parse(text)                 an ISO 8601 / W3C datetime (a date alone, Z or an offset) as aware UTC,
                                or None; a time without a zone is taken as UTC
    parse_http_date(text)       an RFC 9110 HTTP-date (Expires, Last-Modified, Retry-After) as aware UTC
    parse_retry_after(v, now)   seconds to wait from a Retry-After value, delta-seconds or HTTP-date

Storage keeps its own column format: SQLite's text columns hold iso(ts, zone="+00:00"), the shape
their rows have always had (another would compare wrongly against old rows); PostgreSQL stores
timestamptz and binds datetimes, no text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

Precision = Literal["microseconds", "milliseconds", "seconds"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime | None = None, precision: Precision = "microseconds", zone: str = "Z") -> str:
    """``ts`` (default: now) as UTC with a Z; a naive ``ts`` is taken as UTC. Microseconds unless
    ``precision`` says otherwise (truncated, never rounded, so a time never moves forward).
    ``zone="+00:00"`` only for the SQLite text columns, whose rows were always written that way."""
    if ts is None:
        ts = utc_now()
    elif ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=precision) + zone


def parse(value: str | None) -> datetime | None:
    """An ISO 8601 datetime or date as aware UTC; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
    except ValueError:
        return None
    return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).astimezone(UTC)


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP-date (IMF-fixdate, and the obsolete RFC 850 / asctime forms) as aware UTC, or None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).astimezone(UTC)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date, RFC 9110 10.2.3);
    None if absent or unreadable. A date in the past means "now": 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or utc_now())).total_seconds())
