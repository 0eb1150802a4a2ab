"""Query string in, typed filters out (pure). A value that cannot be read is ``BadRequest`` with
the reason, which the routes answer with 400: a typo never silently widens a query.

    since / until   ISO 8601 (naive = UTC) or a duration back from now: 90s, 30m, 6h, 2d
    min_killed / min_injured   whole numbers >= 0
    country         ISO 3166 alpha-2 (any case)        language   ISO 639-1/-3 code
    rule            a rule's name                      q          words, all of which must match (stories:
                                                                  in the headlines; articles: title and text)
    limit           1..200 (default 50)                cursor     the ``next`` of the previous page
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from wirewatch.errors import BadRequest
from wirewatch.stages.story import parse_time
from wirewatch.timeutil import utc_now

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_WORDS = 16
_DURATION = re.compile(r"(\d{1,7})([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WORD = re.compile(r"\w+", re.UNICODE)
_COMMON = ("limit", "cursor", "token")  # token: read authorisation (routes.py), not a filter


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    min_killed: int | None = None
    min_injured: int | None = None
    country: str | None = None
    language: str | None = None
    rule: str | None = None
    words: tuple[str, ...] = ()
    status: str | None = None
    story_id: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: list[Any] | None = field(default=None)


def parse_when(name: str, value: str, now: datetime) -> datetime:
    m = _DURATION.fullmatch(value.strip())
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    t = parse_time(value)
    if t is None:
        raise BadRequest("bad_parameter", f"{name}: expected an ISO 8601 time or a duration such as 6h, got {value!r}")
    return t


def _count(name: str, value: str, low: int = 0, high: int = 10**12) -> int:
    if not re.fullmatch(r"\d{1,13}", value.strip()) or not low <= int(value) <= high:
        raise BadRequest("bad_parameter", f"{name}: expected a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _code(name: str, value: str, pattern: str, what: str) -> str:
    if not re.fullmatch(pattern, value.strip()):
        raise BadRequest("bad_parameter", f"{name}: expected {what}, got {value!r}")
    return value.strip()


def words(value: str) -> tuple[str, ...]:
    """The words of a text query, lower-cased: every one must occur (no operators, no syntax)."""
    found = tuple(w.casefold() for w in _WORD.findall(value))
    if not found:
        raise BadRequest("bad_parameter", f"q: expected one or more words, got {value!r}")
    if len(found) > MAX_WORDS:
        raise BadRequest("bad_parameter", f"q: at most {MAX_WORDS} words, got {len(found)}")
    return found


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(value: str, arity: int) -> list[Any]:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        decoded = None
    if not isinstance(decoded, list) or len(decoded) != arity or not all(isinstance(v, str | int) for v in decoded):
        raise BadRequest("bad_parameter", "cursor: not a cursor this API gave out (use the previous page's next)")
    return decoded


_READERS: dict[str, Callable[[str, datetime], dict[str, Any]]] = {
    "since": lambda v, now: {"since": parse_when("since", v, now)},
    "until": lambda v, now: {"until": parse_when("until", v, now)},
    "min_killed": lambda v, now: {"min_killed": _count("min_killed", v)},
    "min_injured": lambda v, now: {"min_injured": _count("min_injured", v)},
    "country": lambda v, now: {
        "country": _code("country", v, r"[A-Za-z]{2}", "an ISO 3166 alpha-2 code such as SY").upper()
    },
    "language": lambda v, now: {
        "language": _code("language", v, r"[A-Za-z]{2,3}", "a language code such as en").lower()
    },
    "rule": lambda v, now: {"rule": _code("rule", v, r"[^,%\x00-\x1f]{1,200}", "a rule name")},
    "q": lambda v, now: {"words": words(v)},
    "status": lambda v, now: {"status": _code("status", v, r"pending|delivered", "pending or delivered")},
    "story_id": lambda v, now: {"story_id": _code("story_id", v, r"[\w.:-]{1,100}", "a story id")},
    "limit": lambda v, now: {"limit": _count("limit", v, 1, MAX_LIMIT)},
}

# What each list endpoint accepts; anything else is a 400 naming it.
STORY_PARAMS = ("since", "until", "min_killed", "min_injured", "country", "language", "rule", "q")
ARTICLE_PARAMS = ("since", "until", "language", "q")
ALERT_PARAMS = ("since", "until", "status", "rule", "story_id")


def parse(
    query: Mapping[str, str] | Any, allowed: tuple[str, ...], cursor_arity: int, now: datetime | None = None
) -> Filters:
    """`query` (a mapping; a multidict's repeated keys are refused) -> Filters, or BadRequest."""
    now = now or utc_now()
    values: dict[str, Any] = {}
    keys = list(query.keys())
    for name in keys:
        if name not in allowed and name not in _COMMON:
            raise BadRequest(
                "bad_parameter",
                f"unknown parameter {name!r}; this endpoint takes {', '.join((*allowed, 'limit', 'cursor'))}",
            )
        if keys.count(name) > 1:
            raise BadRequest("bad_parameter", f"{name}: given more than once")
        raw = query[name]
        if name == "token":
            continue
        if name == "cursor":
            values["cursor"] = decode_cursor(raw, cursor_arity)
            continue
        values.update(_READERS[name](raw, now))
    f = Filters(**values)
    if f.since and f.until and f.since >= f.until:
        raise BadRequest("bad_parameter", "since must be before until")
    return f
