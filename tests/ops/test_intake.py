"""Intake rules of POST /links and `wirewatch submit`: pure, no server."""

from __future__ import annotations

import pytest

from tests.harness.loopback import FakeTime
from wirewatch.ops.intake import (
    IntakeRefused,
    RateLimiter,
    check_size,
    check_token,
    normalise_url,
    parse_body,
    validate_urls,
)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://news.example/a/b?x=1", "https://news.example/a/b?x=1"),
        ("  HTTP://News.Example/A  ", "http://news.example/A"),
        ("https://bücher.example/seite", "https://xn--bcher-kva.example/seite"),
        ("https://xn--bcher-kva.example/seite", "https://xn--bcher-kva.example/seite"),
        ("https://مثال.example/خبر", "https://xn--mgbh0fb.example/خبر"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("http://[::1]/x", "http://[::1]/x"),
    ],
)
def test_good_urls_are_normalised(url, expected):
    assert normalise_url(url, 2048) == expected


@pytest.mark.parametrize(
    "url, why",
    [
        (None, "not a string"),
        (42, "not a string"),
        ("", "empty"),
        ("not a url", "white space"),
        ("file:///etc/passwd", "scheme file:"),
        ("javascript:alert(1)", "scheme javascript:"),
        ("ftp://files.example/x", "scheme ftp:"),
        ("https:///path-only", "no host"),
        ("https://intranet/x", "fully qualified"),
        ("https://-bad-.example/x", "not a valid domain"),
        ("https://user:pw@news.example/x", "user name or password"),
        ("https://news.example/" + "a" * 3000, "longer than 2048"),
        ("https://news.example:99999/x", "cannot be parsed"),
    ],
)
def test_bad_urls_say_why(url, why):
    with pytest.raises(ValueError) as e:
        normalise_url(url, 2048)
    assert why in str(e.value)


def test_a_request_lists_every_bad_url_and_accepts_none():
    with pytest.raises(IntakeRefused) as e:
        validate_urls(["https://ok.example/1", None, "javascript:x"], max_urls=10, max_length=2048)
    assert e.value.status == 400
    assert [b["index"] for b in e.value.bad] == ["1", "2"] and e.value.bad[0]["url"] == "null"
    assert "bad_urls" in e.value.body()


def test_too_many_urls_is_413():
    with pytest.raises(IntakeRefused) as e:
        validate_urls(["https://ok.example/"] * 11, max_urls=10, max_length=2048)
    assert e.value.status == 413


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"{not json", 400),
        (b'["https://a.example/"]', 400),  # a top-level list: a clear message, not a Python error
        (b'{"urls": []}', 400),
        (b'{"urls": "https://a.example/"}', 400),
        (b'{"link": "https://a.example/"}', 400),
    ],
)
def test_bad_bodies_are_400_with_a_message(raw, status):
    with pytest.raises(IntakeRefused) as e:
        parse_body(raw)
    assert e.value.status == status and e.value.message and "Traceback" not in e.value.message


def test_bodies():
    assert parse_body(b'{"url": "https://a.example/"}') == ["https://a.example/"]
    assert parse_body(b'{"urls": ["https://a.example/", null]}') == ["https://a.example/", None]


def test_bearer_token():
    check_token(None, None)  # no token configured (loopback only): open
    check_token("Bearer s3cret", "s3cret")
    check_token("bearer s3cret", "s3cret")
    for header in (None, "", "Bearer wrong", "Basic s3cret", "s3cret"):
        with pytest.raises(IntakeRefused) as e:
            check_token(header, "s3cret")
        assert e.value.status == 401


def test_rate_limit_per_client():
    t = FakeTime()
    limiter = RateLimiter(rate=2.0, burst=3, clock=t.clock)
    assert [limiter.allow("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.allow("a") == pytest.approx(0.5)
    assert limiter.allow("b") == 0  # another client has its own bucket
    t.now += 0.5
    assert limiter.allow("a") == 0


def test_rate_limiter_forgets_old_clients():
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.allow(client)
    assert list(limiter._buckets) == ["b", "c"]


def test_a_body_over_max_message_bytes_is_413_saying_the_limit():
    check_size(None, 900_000)  # no Content-Length: the bytes read are checked next
    check_size(900_000, 900_000)
    with pytest.raises(IntakeRefused) as e:
        check_size(1_000_000, 900_000)
    assert e.value.status == 413 and "900,000" in e.value.message and "max_message_bytes" in e.value.message
