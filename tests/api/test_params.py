"""Query strings -> filters, and the reasons a bad one is refused (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.api import params
from wirewatch.api.routes import authorised
from wirewatch.errors import BadRequest

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def parse(**query: str) -> params.Filters:
    return params.parse(query, params.STORY_PARAMS, 2, now=NOW)


def test_values_are_read_and_normalised():
    f = parse(since="6h", until="2026-12-02T11:00:00", min_killed="3", country="gh", language="EN", q="Tanker, blast!")
    assert f.since == NOW - timedelta(hours=6) and f.until == datetime(2026, 12, 2, 11, tzinfo=UTC)
    assert (f.min_killed, f.country, f.language, f.words) == (3, "GH", "en", ("tanker", "blast"))
    cursor = params.encode_cursor(["2026-12-01T10:00:00.000000+00:00", "s-1"])
    assert parse(cursor=cursor, limit="10").cursor == ["2026-12-01T10:00:00.000000+00:00", "s-1"]


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"since": "yesterday"}, "since: expected an ISO 8601 time"),
        ({"min_killed": "-1"}, "min_killed: expected a whole number"),
        ({"min_injured": "ten"}, "min_injured: expected a whole number"),
        ({"country": "Ghana"}, "country: expected an ISO 3166"),
        ({"language": "english"}, "language: expected a language code"),
        ({"q": "!!!"}, "q: expected one or more words"),
        ({"limit": "0"}, "limit: expected a whole number from 1 to 200"),
        ({"limit": "5000"}, "limit: expected a whole number from 1 to 200"),
        ({"cursor": "not-a-cursor"}, "cursor: not a cursor"),
        ({"min_kiled": "3"}, "unknown parameter 'min_kiled'"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "since must be before until"),
    ],
)
def test_bad_values_say_why(query, reason):
    with pytest.raises(BadRequest) as e:
        parse(**query)
    assert e.value.reason == "bad_parameter" and reason in e.value.detail


def test_each_endpoint_takes_only_its_own_filters():
    with pytest.raises(BadRequest, match="unknown parameter 'min_killed'"):
        params.parse({"min_killed": "1"}, params.ARTICLE_PARAMS, 2)
    assert params.parse({"status": "pending", "token": "x"}, params.ALERT_PARAMS, 2).status == "pending"


def test_read_authorisation():
    assert authorised(None, None, None, "127.0.0.1") is None
    assert authorised(None, None, None, "::1") is None
    assert "loopback" in authorised(None, None, None, "10.1.2.3")
    assert authorised("s3cret", "Bearer s3cret", None, "10.1.2.3") is None
    assert authorised("s3cret", None, "s3cret", "10.1.2.3") is None
    assert "token" in authorised("s3cret", "Bearer nope", None, "127.0.0.1")
    assert "token" in authorised("s3cret", None, None, "127.0.0.1")
