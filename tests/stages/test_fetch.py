"""stages.fetch against a real HTTP origin on 127.0.0.1 (tests/harness/origin.py): redirects, statuses,
timeouts, size caps and charsets. Loopback is allowed here by the explicit switch; the address
policy itself is tested in test_fetch_safety.py and test_netguard.py."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from tests.harness.origin import Origin
from wirewatch.errors import PermanentError, TransientError
from wirewatch.settings import FetchSettings
from wirewatch.stages.fetch import FetchResult, Hop, build_client, decode_html, fetch, parse_retry_after
from wirewatch.stages.urls import normalise_link


@pytest.fixture
def settings() -> FetchSettings:
    return FetchSettings(
        connect_timeout=1.0,
        read_timeout=0.5,
        total_timeout=2.0,
        max_bytes=100_000,
        max_redirects=5,
        allow_private_addresses=True,
    )


@pytest.fixture
async def origin():
    async with Origin() as o:
        yield o.base


@pytest.fixture
async def client(settings: FetchSettings):
    async with build_client(settings) as c:
        yield c


async def test_follows_mixed_redirects_and_records_the_chain(origin, client, settings):
    result = await fetch(f"{origin}/r/a", client, settings)

    assert isinstance(result, FetchResult)
    assert result.url == f"{origin}/r/a"
    assert result.final_url == f"{origin}/r/article?id=7"
    assert result.redirects == (
        Hop(f"{origin}/r/a", 301),
        Hop(f"{origin}/r/b", 302),
        Hop(f"{origin}/r/c", 307),
        Hop(f"{origin}/r/d", 308),
        Hop(f"{origin}/r/e", 303),
    )
    assert result.status == 200
    assert result.content_type == "text/html; charset=utf-8"
    assert "Water rose overnight." in result.html


async def test_no_redirect_gives_an_empty_chain(origin, client, settings):
    result = await fetch(f"{origin}/article", client, settings)
    assert result.redirects == ()
    assert result.final_url == f"{origin}/article"


async def test_redirect_loop(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/loop/a", client, settings)
    assert e.value.reason == "redirect_loop"
    assert f"{origin}/loop/b" in e.value.detail


async def test_too_many_redirects(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/hops/0", client, settings)
    assert e.value.reason == "too_many_redirects"
    assert f"{origin}/hops/0" in e.value.detail


async def test_exactly_max_redirects_is_allowed(origin, client):
    tight = FetchSettings(max_redirects=5, read_timeout=1.0, total_timeout=3.0, allow_private_addresses=True)
    assert len((await fetch(f"{origin}/r/a", client, tight)).redirects) == 5
    with pytest.raises(PermanentError, match="too_many_redirects"):
        await fetch(f"{origin}/r/a", client, FetchSettings(max_redirects=4, allow_private_addresses=True))


async def test_redirect_without_location_is_a_status_error(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/no-location", client, settings)
    assert (e.value.reason, e.value.detail) == ("http_status", f"HTTP 302 from {origin}/no-location")


async def test_redirect_to_another_scheme_is_refused(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/to-ftp", client, settings)
    assert e.value.reason == "bad_scheme"
    assert "ftp://files.example/report.pdf" in e.value.detail


async def test_malformed_location_is_a_bad_url(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/bad-location", client, settings)
    assert e.value.reason == "bad_url"
    assert f"{origin}/bad-location" in e.value.detail


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/gone", 410)])
async def test_client_errors_are_permanent(origin, client, settings, path, status):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}{path}", client, settings)
    assert type(e.value) is PermanentError
    assert (e.value.reason, e.value.detail) == ("http_status", f"HTTP {status} from {origin}{path}")


async def test_503_is_transient_with_retry_after_seconds(origin, client, settings):
    with pytest.raises(TransientError) as e:
        await fetch(f"{origin}/busy", client, settings)
    assert (e.value.reason, e.value.detail) == ("http_status", f"HTTP 503 from {origin}/busy")
    assert e.value.retry_after == 120.0


async def test_429_is_transient_with_retry_after_date(origin, client, settings):
    with pytest.raises(TransientError) as e:
        await fetch(f"{origin}/rate-limited", client, settings)
    assert e.value.reason == "http_status"
    assert e.value.retry_after is not None and 80 <= e.value.retry_after <= 90


async def test_non_html_is_refused_naming_the_type(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/report.pdf", client, settings)
    assert e.value.reason == "unsupported_content_type"
    assert "application/pdf" in e.value.detail and f"{origin}/report.pdf" in e.value.detail


async def test_xhtml_is_accepted(origin, client, settings):
    result = await fetch(f"{origin}/xhtml", client, settings)
    assert result.content_type == "application/xhtml+xml"


async def test_streamed_body_over_the_cap_is_cut_off(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/huge", client, settings)
    assert e.value.reason == "too_large"
    assert "more than 100000 bytes" in e.value.detail


async def test_declared_length_over_the_cap_is_refused_before_reading(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(f"{origin}/huge-declared", client, settings)
    assert e.value.reason == "too_large"
    assert "declares 300000 bytes" in e.value.detail


@pytest.mark.parametrize("path", ["/slow-headers", "/stalled-body"])
async def test_read_timeout_is_transient(origin, client, settings, path):
    with pytest.raises(TransientError) as e:
        await fetch(f"{origin}{path}", client, settings)
    assert e.value.reason == "timeout"
    assert isinstance(e.value.__cause__, httpx.ReadTimeout)
    assert f"{origin}{path}" in e.value.detail


async def test_total_deadline_covers_a_server_that_drips(origin, client):
    # The drip never stops and never waits read_timeout between bytes: only the total deadline
    # can end it, and the error says that one fired (no clock read).
    slow_drip = FetchSettings(read_timeout=1.0, total_timeout=0.5, allow_private_addresses=True)
    with pytest.raises(TransientError) as e:
        await fetch(f"{origin}/drip", client, slow_drip)
    assert e.value.reason == "timeout"
    assert "in total" in e.value.detail


async def test_connection_refused_is_transient(client, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as e:
        await fetch(f"http://127.0.0.1:{port}/x", client, settings)
    assert e.value.reason == "connect_error"
    assert isinstance(e.value.__cause__, httpx.ConnectError)


async def test_charset_only_in_meta_windows_1256(origin, client, settings):
    result = await fetch(f"{origin}/meta-1256", client, settings)
    assert result.content_type == "text/html"
    assert "قتل خمسة أشخاص في الهجوم" in result.html
    assert "<title>تقرير</title>" in result.html


async def test_latin1_in_meta_decodes_as_browsers_do(origin, client, settings):
    result = await fetch(f"{origin}/meta-latin1", client, settings)
    assert "Café owner said “we heard it”." in result.html


async def test_utf8_arabic(origin, client, settings):
    result = await fetch(f"{origin}/arabic", client, settings)
    assert "قال مسؤولون إن المياه ارتفعت ليلا" in result.html


async def test_bom_outranks_a_wrong_header(origin, client, settings):
    result = await fetch(f"{origin}/bom", client, settings)
    assert result.html.startswith("<!doctype html>")
    assert "قال مسؤولون" in result.html


async def test_undeclared_charset_is_detected(origin, client, settings):
    result = await fetch(f"{origin}/undeclared-1256", client, settings)
    assert "قال شهود إن الانفجار وقع قرب السوق المركزي" in result.html


async def test_sends_the_configured_user_agent(origin, client, settings):
    result = await fetch(f"{origin}/ua", client, settings)
    assert settings.user_agent in result.html


async def test_client_is_built_as_specified(settings):
    async with build_client(settings) as c:
        assert c.follow_redirects is False
        assert c.headers["User-Agent"] == settings.user_agent
        assert (c.timeout.connect, c.timeout.read, c.timeout.pool) == (1.0, 0.5, 1.0)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://files.example/x", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
        ("mailto:desk@example.org", "bad_scheme"),
        ("", "bad_url"),
        ("https://", "bad_url"),
        ("http://[::1", "bad_url"),
        ("https://exa mple.com/", "bad_url"),
    ],
)
async def test_bad_links_fail_before_any_request(client, settings, url, reason):
    with pytest.raises(PermanentError) as e:
        await fetch(url, client, settings)
    assert e.value.reason == reason


@pytest.mark.parametrize(
    "link, url",
    [
        ("arab.news/jtxzg", "https://arab.news/jtxzg"),
        ("  arab.news/jtxzg\n", "https://arab.news/jtxzg"),
        ("//arab.news/jtxzg", "https://arab.news/jtxzg"),
        ("localhost:8080/a", "https://localhost:8080/a"),
        ("HTTP://Example.COM/Path#frag", "http://example.com/Path"),
    ],
)
def test_scheme_less_links_get_https(link, url):
    assert normalise_link(link) == url


def test_retry_after_parsing():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_decode_prefers_header_then_meta_then_detection():
    body = "<meta charset='utf-8'><p>مرحبا</p>".encode("cp1256")
    # The header wins over a meta tag that lies.
    assert "مرحبا" in decode_html(body, "text/html; charset=windows-1256")
    assert decode_html(b"<p>plain</p>", "") == "<p>plain</p>"
    # A meta tag cannot claim UTF-16 for bytes it was read from as ASCII.
    assert decode_html("<meta charset=utf-16><p>é</p>".encode()) == "<meta charset=utf-16><p>é</p>"
