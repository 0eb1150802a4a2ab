"""The fetch stage against hostile origins with the address guard ON (the production default).

The origin listens on 127.0.0.1, which the guard refuses; the tests exempt exactly 127.0.0.1/32
through ``allowed_networks`` (the operator's explicit loosening), so any other loopback target a
redirect aims at (127.0.0.2, [::1], 0.0.0.0, 2130706434) must be refused at connect time. Every
target is on this machine: were the guard broken, nothing would leave it.
"""

from __future__ import annotations

import httpx
import pytest

from tests.harness.origin import ARABIC, ARTICLE, RUSSIAN, Origin
from wirewatch.errors import PermanentError, TransientError
from wirewatch.settings import FetchSettings
from wirewatch.stages.fetch import Hop, build_client, decode_head, decode_html, fetch, may_refresh, meta_refresh


def guarded(**kw) -> FetchSettings:
    # Timeouts are guards against a hang here, not what is tested (but for the one test that sets
    # its own): at 1 s, a loaded machine turned a loopback connect, or the origin compressing its
    # gzip bomb on the first request, into a `timeout` instead of the refusal under test.
    base = dict(
        connect_timeout=30.0,
        read_timeout=30.0,
        total_timeout=60.0,
        max_bytes=200_000,
        max_decompressed_bytes=1_000_000,
        max_redirects=5,
        allowed_networks=["127.0.0.1/32"],
    )
    return FetchSettings(**{**base, **kw})


@pytest.fixture
async def origin():
    async with Origin() as o:
        yield o


@pytest.fixture
def settings() -> FetchSettings:
    return guarded()


@pytest.fixture
async def client(settings):
    async with build_client(settings) as c:
        yield c


async def test_default_settings_refuse_loopback(origin):
    defaults = FetchSettings()
    assert defaults.allow_private_addresses is False and defaults.allowed_networks == []
    async with build_client(defaults) as c:
        with pytest.raises(PermanentError) as e:
            await fetch(origin.url("/article"), c, defaults)
    assert e.value.reason == "blocked_address"
    assert "127.0.0.1" in e.value.detail and "loopback" in e.value.detail
    assert origin.hits["/article"] == 0  # refused before a byte was sent


async def test_exempted_address_is_fetched(origin, client, settings):
    result = await fetch(origin.url("/article"), client, settings)
    assert "Water rose overnight." in result.html


@pytest.mark.parametrize(
    "path, shown",
    [
        ("/to-loopback", "127.0.0.2"),
        ("/to-ipv6-loopback", "::1"),
        ("/to-unspecified", "0.0.0.0"),
        ("/to-decimal-loopback", "127.0.0.2"),
    ],
)
async def test_redirect_to_an_internal_address_is_refused_at_connect(origin, client, settings, path, shown):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url(path), client, settings)
    assert e.value.reason == "blocked_address"
    assert shown in e.value.detail
    assert origin.hits["/article"] == 0


async def test_name_resolving_to_loopback_is_refused(origin, settings):
    # What DNS rebinding looks like from here: a public-looking name whose answer is internal.
    async def rebinding(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "127.0.0.2"] if host == "news.rebind.test" else ["127.0.0.1"]

    async with build_client(settings, resolver=rebinding) as c:
        with pytest.raises(PermanentError) as e:
            await fetch(f"http://news.rebind.test:{origin.port}/article", c, settings)
        assert e.value.reason == "blocked_address" and "127.0.0.2" in e.value.detail
        # The same name resolving only to the exempted address is fine: the check is on the IP.
        ok = await fetch(f"http://fine.test:{origin.port}/article", c, settings)
        assert "Water rose overnight." in ok.html


async def test_unknown_host_is_a_dns_error(settings):
    import socket

    async def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with build_client(settings, resolver=nxdomain) as c:
        with pytest.raises(PermanentError) as e:
            await fetch("https://gone.invalid/x", c, settings)
    assert e.value.reason == "dns_error" and "gone.invalid" in e.value.detail


async def test_feed_style_use_of_the_client_is_guarded_too(origin, client):
    # The feed poller lets httpx follow redirects; the guard sits below, so it still holds.
    with pytest.raises(httpx.ConnectError, match="loopback"):
        await client.get(origin.url("/to-loopback"), follow_redirects=True)


async def test_bad_certificate_is_a_tls_error():
    settings = guarded()
    async with Origin(tls=True) as o, build_client(settings) as c:
        with pytest.raises(PermanentError) as e:
            await fetch(o.url("/article"), c, settings)
    assert e.value.reason == "tls_error"
    assert "CERTIFICATE_VERIFY_FAILED" in e.value.detail or "certificate" in e.value.detail.lower()


async def test_gzip_bomb_is_stopped_after_decompression(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/gzip-bomb"), client, settings)
    assert e.value.reason == "too_large"
    assert "decompresses to more than 1000000 bytes" in e.value.detail


async def test_endless_body_is_cut_off_on_the_wire(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/endless"), client, settings)
    assert (e.value.reason, e.value.detail) == ("too_large", f"{origin.url('/endless')} sent more than 200000 bytes")


@pytest.mark.parametrize(
    "path, text", [("/gzipped", "قال مسؤولون"), ("/deflated", "Water rose"), ("/raw-deflated", "Water rose")]
)
async def test_compressed_pages_are_decoded(origin, client, settings, path, text):
    assert text in (await fetch(origin.url(path), client, settings)).html


async def test_encoding_we_did_not_ask_for_is_refused(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/brotli"), client, settings)
    assert e.value.reason == "decode_error" and "'br'" in e.value.detail


async def test_headers_past_the_parser_ceiling(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/huge-headers"), client, settings)
    assert e.value.reason == "headers_too_large"


async def test_headers_past_the_configured_cap(origin, client):
    tight = guarded(max_header_bytes=8192)
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/big-headers"), client, tight)
    assert e.value.reason == "headers_too_large" and "the limit is 8192" in e.value.detail
    assert "Water rose" in (await fetch(origin.url("/big-headers"), client, guarded())).html


async def test_missing_content_type_is_refused(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/no-content-type"), client, settings)
    assert e.value.reason == "unsupported_content_type"


async def test_meta_refresh_is_followed_and_recorded(origin, client, settings):
    result = await fetch(origin.url("/refresh"), client, settings)
    assert result.redirects == (Hop(origin.url("/refresh"), 200),)
    assert result.final_url == origin.url("/article") and "Water rose" in result.html


async def test_meta_refresh_inside_noscript_after_a_redirect(origin, client, settings):
    result = await fetch(origin.url("/refresh-noscript"), client, settings)
    assert result.final_url == origin.url("/r/article?id=9")


async def test_meta_refresh_inside_a_comment_is_not_followed(origin, client, settings):
    result = await fetch(origin.url("/refresh-in-comment"), client, settings)
    assert result.redirects == () and result.final_url == origin.url("/refresh-in-comment")
    assert "Water rose" in result.html and origin.hits["/upgrade-your-browser"] == 0


async def test_meta_refresh_loop(origin, client, settings):
    with pytest.raises(PermanentError) as e:
        await fetch(origin.url("/refresh-loop/a"), client, settings)
    assert e.value.reason == "redirect_loop"


async def test_slow_self_reload_is_not_a_redirect(origin, client, settings):
    result = await fetch(origin.url("/reload-self"), client, settings)
    assert result.redirects == () and "Live." in result.html


def test_the_head_of_a_long_page_is_decoded_alone_and_a_character_the_cut_splits_is_dropped():
    refresh = '<meta http-equiv="Refresh" content="0; url=/next">'
    start = f"<html><head>{refresh}</head><body><p>Le quai est fermé.</p>".encode()
    body = start + "é".encode() * 40_000
    for size in (1000, 1001):  # "é" is two bytes: one cut falls between characters, one inside one
        head = decode_head(body, "text/html", size)
        assert head.startswith("<html><head>" + refresh) and "\ufffd" not in head
        assert len(head.encode()) == size - (size - len(start)) % 2
    assert meta_refresh(decode_head(body, "text/html"), "https://s.example/a") == "https://s.example/next"
    short = "<p>Août</p>".encode("cp1252")  # short enough to be read whole, as decode_html reads it
    latin = "text/html; charset=windows-1252"
    assert decode_head(short, latin) == decode_html(short, latin) == "<p>Août</p>"


def test_meta_refresh_parsing():
    base = "https://s.example/abc"
    assert (
        meta_refresh('<meta http-equiv="refresh" content="0;URL=\'https://news.example/a\'">', base)
        == "https://news.example/a"
    )
    assert meta_refresh("<META HTTP-EQUIV=Refresh CONTENT='1; url=/b'>", base) == "https://s.example/b"
    assert meta_refresh('<meta content="0; url=c" http-equiv="refresh">', base) == "https://s.example/c"
    assert meta_refresh('<meta http-equiv="refresh" content="600; url=/d">', base) is None
    assert meta_refresh('<meta http-equiv="refresh" content="5">', base) is None
    assert meta_refresh('<meta name="description" content="0; url=/e">', base) is None
    # Commented out (an old-IE conditional comment, a disabled template line): not a redirect.
    assert (
        meta_refresh('<head><!--[if IE]><meta http-equiv="refresh" content="0; url=/f"><![endif]--></head>', base)
        is None
    )
    assert (
        meta_refresh(
            '<!-- <meta http-equiv="refresh" content="0; url=/g"> --><meta http-equiv="refresh" content="0; url=/h">',
            base,
        )
        == "https://s.example/h"
    )
    assert meta_refresh("<p>the http-equiv=refresh attribute, explained</p>", base) is None


def test_a_page_is_decoded_for_its_refresh_only_when_its_bytes_may_hold_one():
    meta = "<head><title>Moved</title><META HTTP-EQUIV=REFRESH CONTENT='0; url=/b'></head>"
    assert may_refresh(meta.encode(), "text/html")
    assert may_refresh(meta.encode("cp1251"), "text/html; charset=windows-1251")
    assert not may_refresh(b"<head><title>Water rose</title></head>" * 100, "text/html")
    # Where the bytes do not spell ASCII as ASCII, the text is always searched, never the bytes.
    assert may_refresh(meta.encode("utf-16"), "text/html")  # a BOM, then a NUL among the first bytes
    assert may_refresh(meta.encode("utf-16-le"), "text/html; charset=utf-16le")
    assert may_refresh(meta.encode("cp500"), "text/html; charset=cp500")  # EBCDIC: no NUL, other letters
    # A label naming a codec that is no charset is no charset (it used to fail the decoding).
    assert not may_refresh(b"<p>plain</p>", "text/html; charset=rot13")
    assert decode_html(b"<p>plain</p>", "text/html; charset=rot13") == "<p>plain</p>"
    assert meta_refresh(meta.encode("utf-16").decode("utf-16"), "https://s.example/a") == "https://s.example/b"
    # A refresh past the first 16,384 characters is none (meta_refresh reads no further), so the
    # bytes are read up to 4 bytes a character: an Arabic head of 30 KB still counts.
    arabic_head = "<head><title>" + "خبر " * 3000 + "</title><meta http-equiv='refresh' content='0; url=/c'>"
    assert len(arabic_head) < 16_384 and may_refresh(arabic_head.encode(), "text/html; charset=utf-8")


async def test_wrong_charset_label_falls_back_to_the_bytes(origin, client, settings):
    assert "قال مسؤولون إن المياه ارتفعت ليلا" in (await fetch(origin.url("/wrong-charset"), client, settings)).html


@pytest.mark.parametrize("path", ["/koi8", "/cp1251"])
async def test_undeclared_cyrillic_is_detected(origin, client, settings, path):
    html = (await fetch(origin.url(path), client, settings)).html
    assert "Спасатели сообщили, что вода поднялась за ночь." in html
    assert "<title>Новости</title>" in html


async def test_drip_with_the_guard_on_still_hits_the_total_deadline(origin, client):
    with pytest.raises(TransientError) as e:
        await fetch(origin.url("/drip"), client, guarded(total_timeout=0.5))
    assert e.value.reason == "timeout" and "in total" in e.value.detail


def test_fixture_text_is_what_the_origin_serves():
    assert "Water rose overnight." in ARTICLE and "قال" in ARABIC and "Спасатели" in RUSSIAN
