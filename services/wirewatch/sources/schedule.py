"""When to poll a source next: response headers and feed hints in, seconds to wait out. Pure.

A healthy source is polled every `interval` seconds unless the publisher asks for less often
(RSS ``<ttl>``, ``Cache-Control: max-age``, ``Expires``, ``Retry-After``); the answer is always
clamped to ``[min_interval, max_interval]`` so neither a wrong header nor a typo in the settings
can make us hammer a site or forget it. A failing source backs off exponentially (with jitter) up to
``backoff_max`` and keeps being polled at that pace for as long as it fails: it is never given up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..retry import Backoff, backoff
from ..timeutil import parse_http_date, parse_retry_after, utc_now


@dataclass(frozen=True, slots=True)
class Bounds:
    min_interval: float
    max_interval: float
    backoff_max: float


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts in tests; httpx.Headers is case-insensitive already
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds asked by ``Retry-After`` (delta-seconds or an HTTP date), or None."""
    return parse_retry_after(_header(headers, "retry-after"), now)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response says it stays fresh: Cache-Control s-maxage/max-age, else Expires.

    ``no-cache``/``no-store`` mean "ask again whenever you like": 0, which the bounds lift to
    ``min_interval``. None when the response says nothing.
    """
    cc = (_header(headers, "cache-control") or "").lower()
    directives: dict[str, str] = {}
    for part in cc.split(","):
        key, _, val = part.strip().partition("=")
        if key:
            directives[key.strip()] = val.strip().strip('"')
    for key in ("s-maxage", "max-age"):
        if key in directives:
            try:
                return max(0.0, float(int(directives[key])))
            except ValueError:
                continue
    if "no-cache" in directives or "no-store" in directives:
        return 0.0
    expires = _header(headers, "expires")
    if expires is not None:
        when = parse_http_date(expires)
        if when is None:  # "Expires: 0" and other junk mean already expired
            return 0.0
        date = parse_http_date(_header(headers, "date")) or now
        return max(0.0, (when - date).total_seconds())
    return None


def next_delay(
    interval: float,
    bounds: Bounds,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    ttl: float | None = None,
) -> float:
    """Seconds until the next poll of a source that answered (200 or 304).

    The publisher's hints can only lengthen our interval: a feed that says it changes hourly is
    not polled every two minutes, but a short max-age does not make us poll faster than asked.
    """
    now = now or utc_now()
    headers = headers or {}
    delay = interval
    for hint in (ttl, cache_lifetime(headers, now), retry_after(headers, now)):
        if hint is not None:
            delay = max(delay, hint)
    return min(max(delay, bounds.min_interval), bounds.max_interval)


def error_delay(
    error_count: int,
    interval: float,
    bounds: Bounds,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> float:
    """Seconds until the next try of a source that failed `error_count` times in a row.

    The one backoff of wirewatch (retry.backoff): doubling from `interval` per failure, capped at
    `backoff_max` (so the thousandth failure waits as long as the tenth), with full jitter so
    sources that failed together (our own outage) do not all come back in the same second. A
    Retry-After from the server is a floor, honoured up to the same cap.
    """
    now = now or utc_now()
    delay = backoff(error_count, Backoff(interval, bounds.backoff_max))
    asked = retry_after(headers or {}, now)
    if asked is not None:
        delay = max(delay, asked)
    return min(max(delay, bounds.min_interval), bounds.backoff_max)
