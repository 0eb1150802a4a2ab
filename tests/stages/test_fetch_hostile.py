"""Every caller of the one guarded GET against the same hostile web server, on loopback.

The server (aiohttp on 127.0.0.1) answers by host name, the same way on every path, robots.txt
included; the client resolves every ``*.test`` name to it through netguard's resolver hook, so
the address guard still runs on each connection (127.0.0.1 is exempted, nothing else is):

    bomb.test      204 KB of gzip that inflates to 200 MB (Content-Encoding: gzip)
    endless.test   a body that never ends
    drip.test      one byte every 50 ms, forever: never idle long enough for a read timeout
    loop.test      /x -> /x?again -> /x
    private.test   a redirect to 10.0.0.1

Callers: the article fetch, the poller on a feed, on a sitemap and on a site (feed discovery), and
robots.txt. Each must fail with the same reason for the same route, and none may hold more than
the decompression cap (plus slack) in memory: Python allocations are traced (tracemalloc), the
server's included, so the figure is an upper bound.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from wirewatch.errors import StageError, TransientError
from wirewatch.metrics import Metrics
from wirewatch.settings import FetchSettings, SourceSettings
from wirewatch.sources.poller import Source, SourcePoller
from wirewatch.stages.fetch import build_client, fetch
from wirewatch.stages.politeness import Politeness, origin_of

MB = 1_000_000
SETTINGS = FetchSettings(
    connect_timeout=1.0,
    read_timeout=1.0,
    total_timeout=1.5,
    max_bytes=1 * MB,
    max_decompressed_bytes=2 * MB,
    allowed_networks=["127.0.0.1/32"],
    max_redirects=5,
    per_host_rate=1000.0,
    per_host_burst=1000,
)
# Bodies are held as a list of chunks and joined once: twice the cap, plus the client's and the
# server's own buffers. Unbounded, the bomb alone is 200 MB.
MEMORY_LIMIT = 2 * SETTINGS.max_decompressed_bytes + 3 * MB

# What each route must end as, from every caller. robots.txt reads only its first 500 KiB
# (RFC 9309 section 2.5), so a bomb or an endless robots.txt is cut there and parsed: no failure.
EXPECTED = {
    "bomb": "too_large",
    "endless": "too_large",
    "drip": "timeout",
    "loop": "redirect_loop",
    "private": "blocked_address",
}
ROBOTS_READ_FIRST = {"bomb", "endless"}


def gzip_bomb(inflated: int = 200 * MB) -> bytes:
    """gzip of ``inflated`` zero bytes, built a megabyte at a time (about 204 KB)."""
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MB)
    return b"".join([*(z.compress(block) for _ in range(inflated // MB)), z.flush()])


BOMB = gzip_bomb()


async def hostile(request: web.Request) -> web.StreamResponse:
    kind = request.host.split(".", 1)[0]
    if kind == "bomb":
        return web.Response(body=BOMB, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    if kind == "loop":
        target = request.path if request.query_string else f"{request.path}?again"
        raise web.HTTPFound(target)
    if kind == "private":
        raise web.HTTPFound("http://10.0.0.1/inside")
    if kind not in ("endless", "drip"):
        raise web.HTTPNotFound()
    resp = web.StreamResponse(headers={"Content-Type": "text/html"})
    await resp.prepare(request)
    chunk, pause = (b"<p>" + b"x" * 16_000, 0.0) if kind == "endless" else (b" ", 0.05)
    try:
        while True:
            await resp.write(chunk)
            await asyncio.sleep(pause)
    except (ConnectionError, asyncio.CancelledError):
        pass
    return resp


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", hostile)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


async def loopback_names(host: str, port: int) -> list[str]:
    """*.test is this server; anything else resolves nowhere a test should go."""
    return ["127.0.0.1"] if host.endswith(".test") else ["192.0.2.1"]


def _reason(e: BaseException) -> str:
    assert isinstance(e, StageError), f"{type(e).__name__} escaped the error tree: {e!r}"
    return e.reason


async def by_fetch(url, client):
    try:
        await fetch(url, client, SETTINGS)
    except Exception as e:
        return _reason(e)
    return "ok"


async def _poll(kind: str, url: str, client) -> str:
    async def submit(link: dict) -> None:
        raise AssertionError(f"nothing should be submitted, got {link}")

    poller = SourcePoller([], client, None, submit, Metrics(), SourceSettings(), fetch=SETTINGS)
    result = await poller.poll_once(Source(f"hostile-{kind}", kind, url, 60.0))
    return result.reason or result.outcome


async def by_feed_poll(url, client):
    return await _poll("feed", url, client)


async def by_sitemap_poll(url, client):
    return await _poll("sitemap", url, client)


async def by_discovery(url, client):
    return await _poll("site", url, client)


async def by_robots(url, client):
    polite = Politeness(SETTINGS)
    try:
        entry = await polite.robots_txt(origin_of(url), client)
    except Exception as e:
        return _reason(e)
    if entry.parser is None:  # unreadable: the origin's links wait, and say why
        with pytest.raises(TransientError) as held:
            await polite.check_robots(url, client)
        assert held.value.reason == "robots_unavailable" and f": {entry.reason}: " in held.value.detail
    return entry.reason or "read_first"


CALLERS = [by_fetch, by_feed_poll, by_sitemap_poll, by_discovery, by_robots]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("route", sorted(EXPECTED))
async def test_every_caller_fails_alike_and_within_the_caps(port, route):
    url = f"http://{route}.test:{port}/news/feed.xml"
    got: dict[str, str] = {}
    peaks: dict[str, int] = {}
    async with build_client(SETTINGS, resolver=loopback_names) as client:
        gc.collect()
        tracemalloc.start()
        try:
            for caller in CALLERS:
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                got[caller.__name__] = await caller(url, client)
                peaks[caller.__name__] = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    robots = "read_first" if route in ROBOTS_READ_FIRST else EXPECTED[route]
    want = {c.__name__: EXPECTED[route] for c in CALLERS} | {"by_robots": robots}
    assert got == want
    assert all(p < MEMORY_LIMIT for p in peaks.values()), (route, peaks)
