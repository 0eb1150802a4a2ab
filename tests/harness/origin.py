"""A hostile origin for the fetch tests: a real aiohttp server on 127.0.0.1 whose routes each act out
one bad habit of the web (redirect games, slow drips, endless bodies, gzip bombs, huge headers,
lying charsets, Retry-After, robots.txt rules), optionally over TLS with a self-signed certificate.

    async with Origin() as o:          o.url("/r/a") -> "http://127.0.0.1:PORT/r/a"
    async with Origin(tls=True) as o:  https, with a certificate no client trusts
    Origin(robots=503)                 /robots.txt answers 503 (default: a file with rules)

``o.hits[path]`` counts requests per path; ``o.max_in_flight`` is the most requests served at once;
``o.peers`` holds the client address of every connection served (how many connections were opened).
Every streaming route stops by itself after a bounded number of writes.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
import tempfile
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from wirewatch.settings import FetchSettings

ARTICLE = (
    "<!doctype html><html lang='en'><head><title>Flood</title></head><body><p>Water rose overnight.</p></body></html>"
)
ARABIC = "<!doctype html><html lang='ar'><head><title>خبر</title></head><body><p>قال مسؤولون إن المياه ارتفعت ليلا</p></body></html>"
RUSSIAN = (
    "<html><head><title>Новости</title></head><body><p>Спасатели сообщили, что вода поднялась за ночь. "
    "В районе эвакуированы жители трёх улиц, погибших нет, двое пострадавших доставлены в больницу. "
    "Мэр города заявил, что дамба будет отремонтирована до конца недели.</p></body></html>"
)


def loopback_settings(**kw: object) -> FetchSettings:
    """Fetch settings for a test origin on 127.0.0.1: short timeouts, the loopback network allowed
    (the address guard still runs), and a per-host budget that never makes a test wait."""
    base: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
        "allowed_networks": ["127.0.0.1/32"],
        "per_host_rate": 1000.0,
        "per_host_burst": 1000,
    }
    return FetchSettings.model_validate({**base, **kw})


ROBOTS = b"""User-agent: *
Disallow: /private/

User-agent: wirewatch
Disallow: /no-wirewatch/
Disallow: /private/
"""

# 50 MB of zeros gzip to ~50 KB: small on the wire, huge once inflated.
BOMB_SIZE = 50_000_000


def _bomb() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 1_000_000
    return b"".join([c.compress(block) for _ in range(BOMB_SIZE // len(block))] + [c.flush()])


_BOMB: bytes | None = None


def html(
    body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200, headers: dict | None = None
) -> web.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return web.Response(body=data, status=status, headers={"Content-Type": content_type, **(headers or {})})


def redirect(status: int, location: str | None) -> web.Response:
    headers = {"Location": location} if location is not None else {}
    return web.Response(status=status, headers=headers)


class Origin:
    def __init__(self, *, tls: bool = False, robots: int | bytes = ROBOTS) -> None:
        self.tls = tls
        self.robots = robots
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: set[tuple] = set()
        self.base = ""
        self._runner: web.AppRunner | None = None
        self._tmp: str | None = None

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    @property
    def certificate(self) -> Path:
        """The PEM certificate of a TLS origin, for a client that is to trust it."""
        assert self._tmp is not None, "not a TLS origin, or not started"
        return Path(self._tmp, "cert.pem")

    async def __aenter__(self) -> Origin:
        app = web.Application(middlewares=[self._count])
        for path, handler in self.routes().items():
            app.router.add_get(path, handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl() if self.tls else None)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"{'https' if self.tls else 'http'}://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _ssl(self) -> ssl.SSLContext:
        # A certificate made here, for this run, that no client trusts: the openssl CLI is on every
        # machine we run on, so no extra package is needed.
        self._tmp = tempfile.mkdtemp(prefix="ww-origin-")
        key, cert = Path(self._tmp, "key.pem"), Path(self._tmp, "cert.pem")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
        )
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    @web.middleware
    async def _count(self, request: web.Request, handler):
        self.hits[request.path] += 1
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    def routes(self) -> dict:
        return {
            "/robots.txt": self.robots_txt,
            # redirect chains
            "/r/a": short_link,
            "/r/b": hop_b,
            "/r/c": hop_c,
            "/r/d": hop_d,
            "/r/e": hop_e,
            "/r/article": article,
            "/article": article,
            "/loop/a": loop_a,
            "/loop/b": loop_b,
            "/hops/{n}": endless_hops,
            "/r/moved": moved_with_page,
            "/cookie/set": cookie_set,
            "/cookie/need": cookie_need,
            "/sets-cookies": sets_cookies,
            "/r/moved-stalled": moved_stalled,
            "/no-location": no_location,
            "/to-ftp": to_ftp,
            "/bad-location": bad_location,
            "/refresh": refresh,
            "/refresh-noscript": refresh_noscript,
            "/refresh-loop/a": refresh_loop_a,
            "/refresh-loop/b": refresh_loop_b,
            "/reload-self": reload_self,
            "/refresh-in-comment": refresh_in_comment,
            # redirects that aim inside: every target is on loopback, never another network
            "/to-loopback": to_loopback,
            "/to-ipv6-loopback": to_ipv6_loopback,
            "/to-unspecified": to_unspecified,
            "/to-decimal-loopback": to_decimal_loopback,
            # statuses
            "/missing": not_found,
            "/gone": gone,
            "/busy": busy,
            "/rate-limited": rate_limited,
            # content
            "/report.pdf": pdf,
            "/xhtml": xhtml,
            "/no-content-type": no_content_type,
            "/huge": huge_streamed,
            "/huge-declared": huge_declared,
            "/endless": endless_body,
            "/gzip-bomb": gzip_bomb,
            "/gzipped": gzipped,
            "/deflated": deflated,
            "/raw-deflated": raw_deflated,
            "/brotli": brotli_claimed,
            "/huge-headers": huge_headers,
            "/big-headers": big_headers,
            # time
            "/slow-headers": slow_headers,
            "/stalled-body": stalled_body,
            "/drip": drip,
            "/slow": slow,
            # charsets
            "/meta-1256": meta_1256,
            "/meta-latin1": meta_latin1,
            "/arabic": arabic_utf8,
            "/bom": bom_page,
            "/undeclared-1256": undeclared_1256,
            "/wrong-charset": wrong_charset,
            "/koi8": koi8_undeclared,
            "/cp1251": cp1251_undeclared,
            "/ua": echo_ua,
            # robots.txt
            "/private/{name}": article,
            "/no-wirewatch/{name}": article,
            "/to-private": to_robots_private,
        }

    async def robots_txt(self, request: web.Request) -> web.Response:
        if isinstance(self.robots, int):
            return web.Response(status=self.robots, text="no robots here")
        return web.Response(body=self.robots, content_type="text/plain")


async def short_link(request: web.Request) -> web.Response:
    return redirect(301, str(request.url.with_path("/r/b")))  # absolute, the way shorteners answer


async def hop_b(request: web.Request) -> web.Response:
    return redirect(302, "/r/c")  # path-absolute


async def hop_c(request: web.Request) -> web.Response:
    return redirect(307, "d")  # relative to /r/c


async def hop_d(request: web.Request) -> web.Response:
    return redirect(308, f"//{request.host}/r/e")  # scheme-relative


async def hop_e(request: web.Request) -> web.Response:
    return redirect(303, "article?id=7#top")


async def article(request: web.Request) -> web.Response:
    return html(ARTICLE)


async def loop_a(request: web.Request) -> web.Response:
    return redirect(302, "/loop/b")


async def loop_b(request: web.Request) -> web.Response:
    return redirect(302, "/loop/a")


async def endless_hops(request: web.Request) -> web.Response:
    return redirect(302, f"/hops/{int(request.match_info['n']) + 1}")


async def cookie_set(request: web.Request) -> web.Response:
    # A consent or session hop: the cookie it sets is what the next hop checks.
    response = redirect(302, "/cookie/need")
    response.set_cookie("gate", "ok", path="/")
    return response


async def cookie_need(request: web.Request) -> web.Response:
    if request.cookies.get("gate") != "ok":
        return html("<p>Sign in first</p>", status=403)
    return html(ARTICLE)


async def sets_cookies(request: web.Request) -> web.Response:
    response = html(ARTICLE)
    for name in ("session", "consent", "tracker"):
        response.set_cookie(name, "1", path="/")
    return response


async def moved_with_page(request: web.Request) -> web.Response:
    # What servers send with a redirect: a short page saying where the document went.
    page = (
        "<html><body><h1>Moved Permanently</h1><p>The document has moved <a href='/article'>here</a>.</p></body></html>"
    )
    return web.Response(status=301, text=page, content_type="text/html", headers={"Location": "/article"})


async def moved_stalled(request: web.Request) -> web.StreamResponse:
    # A redirect whose page never ends: the client must follow it without waiting for the page.
    response = web.StreamResponse(status=302, headers={"Location": "/article", "Content-Type": "text/html"})
    await response.prepare(request)
    await response.write(b"<html><body>Found")
    await asyncio.sleep(5)
    return response


async def no_location(request: web.Request) -> web.Response:
    return redirect(302, None)


async def to_ftp(request: web.Request) -> web.Response:
    return redirect(302, "ftp://files.example/report.pdf")


async def bad_location(request: web.Request) -> web.Response:
    return redirect(302, "http://[oops/")


async def refresh(request: web.Request) -> web.Response:
    return html("<html><head><meta http-equiv='refresh' content='0; url=/article'></head><body>Moved</body></html>")


async def refresh_noscript(request: web.Request) -> web.Response:
    # The shape of a shortener's interstitial: JavaScript first, the refresh for clients without it.
    return html(
        '<html><head><script>location.replace("/article")</script>'
        '<noscript><META CONTENT="0;URL=&quot;/r/article?id=9&quot;" HTTP-EQUIV="Refresh"></noscript></head></html>'
    )


async def refresh_in_comment(request: web.Request) -> web.Response:
    # An article whose head sends old IE elsewhere in a conditional comment: every other browser
    # (and we) stay on the article. The comment's target does not exist.
    return html(
        "<!doctype html><html><head><title>Flood</title>"
        '<!--[if lt IE 9]><meta http-equiv="refresh" content="0; url=/upgrade-your-browser"><![endif]-->'
        "</head><body><p>Water rose overnight.</p></body></html>"
    )


async def refresh_loop_a(request: web.Request) -> web.Response:
    return html('<meta http-equiv="refresh" content="0;url=/refresh-loop/b">')


async def refresh_loop_b(request: web.Request) -> web.Response:
    return html('<meta http-equiv="refresh" content="0;url=/refresh-loop/a">')


async def reload_self(request: web.Request) -> web.Response:
    # A live blog reloading itself every five minutes is an article, not a redirect.
    return html("<html><head><meta http-equiv='refresh' content='300'></head><body><p>Live.</p></body></html>")


async def to_loopback(request: web.Request) -> web.Response:
    return redirect(302, f"http://127.0.0.2:{request.url.port}/article")


async def to_ipv6_loopback(request: web.Request) -> web.Response:
    return redirect(302, f"http://[::1]:{request.url.port}/article")


async def to_unspecified(request: web.Request) -> web.Response:
    return redirect(302, f"http://0.0.0.0:{request.url.port}/article")


async def to_decimal_loopback(request: web.Request) -> web.Response:
    # 2130706434 is 127.0.0.2 written as one number; resolvers accept it.
    return redirect(302, f"http://2130706434:{request.url.port}/article")


async def to_robots_private(request: web.Request) -> web.Response:
    return redirect(302, "/private/story")


async def not_found(request: web.Request) -> web.Response:
    return html("<html><body>nope</body></html>", status=404)


async def gone(request: web.Request) -> web.Response:
    return html("<html><body>gone</body></html>", status=410)


async def busy(request: web.Request) -> web.Response:
    return web.Response(status=503, headers={"Retry-After": "120"})


async def rate_limited(request: web.Request) -> web.Response:
    when = datetime.now(UTC) + timedelta(seconds=90)
    return web.Response(status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})


async def pdf(request: web.Request) -> web.Response:
    return html(b"%PDF-1.7\n...", content_type="application/pdf")


async def xhtml(request: web.Request) -> web.Response:
    return html(ARTICLE, content_type="application/xhtml+xml")


async def no_content_type(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_type = ""
    await response.prepare(request)
    await response.write(ARTICLE.encode())
    return response


async def _stream(
    request: web.Request, chunk: bytes, count: int, delay: float = 0.0, headers: dict | None = None
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html", **(headers or {})})
    await response.prepare(request)
    try:
        for _ in range(count):
            await response.write(chunk)
            if delay:
                await asyncio.sleep(delay)
    except (ConnectionResetError, ConnectionError):
        pass  # the client hung up once it had enough, as it should
    return response


async def huge_streamed(request: web.Request) -> web.StreamResponse:
    # No Content-Length: the only defence is counting bytes as they arrive.
    return await _stream(request, b"<p>" + b"x" * 16_380 + b"</p>", 200)


async def endless_body(request: web.Request) -> web.StreamResponse:
    # "Endless" as far as any client cap is concerned (1 GB), yet it stops by itself.
    return await _stream(request, b"<p>" + b"y" * 65_529 + b"</p>", 16_000)


async def huge_declared(request: web.Request) -> web.Response:
    return html(b"x" * 300_000, content_type="text/html")


async def gzip_bomb(request: web.Request) -> web.Response:
    global _BOMB
    if _BOMB is None:
        _BOMB = await asyncio.get_running_loop().run_in_executor(None, _bomb)
    return html(_BOMB, content_type="text/html", headers={"Content-Encoding": "gzip"})


async def gzipped(request: web.Request) -> web.Response:
    return html(gzip.compress(ARABIC.encode()), headers={"Content-Encoding": "gzip"})


async def deflated(request: web.Request) -> web.Response:
    return html(zlib.compress(ARTICLE.encode()), headers={"Content-Encoding": "deflate"})


async def raw_deflated(request: web.Request) -> web.Response:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return html(c.compress(ARTICLE.encode()) + c.flush(), headers={"Content-Encoding": "deflate"})


async def brotli_claimed(request: web.Request) -> web.Response:
    return html(b"\x8b\x02\x80not really brotli\x03", headers={"Content-Encoding": "br"})


async def huge_headers(request: web.Request) -> web.Response:
    # 200 KB of headers: past the HTTP parser's own 100 KiB ceiling.
    return html(ARTICLE, headers={f"X-Filler-{i}": "z" * 5000 for i in range(40)})


async def big_headers(request: web.Request) -> web.Response:
    # 20 KB of headers: parsed fine, but past a tighter configured cap.
    return html(ARTICLE, headers={f"X-Filler-{i}": "z" * 1000 for i in range(20)})


async def slow_headers(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return html(ARTICLE)


async def stalled_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    await response.write(b"<html><body><p>first part")
    await asyncio.sleep(5)
    return response


async def drip(request: web.Request) -> web.StreamResponse:
    # Each read arrives within the read timeout; only the whole-fetch deadline can stop this.
    return await _stream(request, b"<p>.</p>", 100, delay=0.1)


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.2)
    return html(ARTICLE)


async def meta_1256(request: web.Request) -> web.Response:
    page = (
        "<html><head><meta charset='windows-1256'><title>تقرير</title></head>"
        "<body><p>قتل خمسة أشخاص في الهجوم</p></body></html>"
    )
    return html(page.encode("cp1256"), content_type="text/html")


async def meta_latin1(request: web.Request) -> web.Response:
    # Bytes 0x93/0x94 are curly quotes in windows-1252 and control codes in true ISO-8859-1.
    page = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        b"</head><body><p>Caf\xe9 owner said \x93we heard it\x94.</p></body></html>"
    )
    return html(page, content_type="text/html")


async def arabic_utf8(request: web.Request) -> web.Response:
    return html(ARABIC)


async def bom_page(request: web.Request) -> web.Response:
    # The header is wrong; the BOM is not.
    return html(b"\xef\xbb\xbf" + ARABIC.encode("utf-8"), content_type="text/html; charset=iso-8859-1")


async def undeclared_1256(request: web.Request) -> web.Response:
    page = "<html><body><p>" + "قال شهود إن الانفجار وقع قرب السوق المركزي صباح اليوم. " * 20 + "</p></body></html>"
    return html(page.encode("cp1256"), content_type="text/html")


async def wrong_charset(request: web.Request) -> web.Response:
    # A charset no codec knows: the header is ignored and the bytes speak for themselves.
    return html(ARABIC.encode("utf-8"), content_type="text/html; charset=x-made-up")


async def koi8_undeclared(request: web.Request) -> web.Response:
    return html(RUSSIAN.encode("koi8-r"), content_type="text/html")


async def cp1251_undeclared(request: web.Request) -> web.Response:
    return html(RUSSIAN.encode("cp1251"), content_type="text/html")


async def echo_ua(request: web.Request) -> web.Response:
    return html(f"<html><body><p>{request.headers.get('User-Agent', '')}</p></body></html>")
