"""The one guarded GET: a URL in, the final answer's status, headers and body out, or an error of
``wirewatch.errors``. Every request wirewatch makes of the open web goes through it: article fetch
(stages/fetch.py), feed, sitemap and homepage polls (sources/poller.py) and robots.txt
(stages/politeness.py), so each gets the same protections and each failure the same reason.

    page = await get(url, client, limits, politeness, headers=..., content_types=..., accept=...,
                     keep_first=..., refresh=...)

On every hop: the URL is checked (http(s) only), robots.txt is asked (``politeness``, optional),
the host's turn is taken, the request goes out on the caller's client, whose transport refuses
non-public addresses at connect time (netguard). Redirects (301/302/303/307/308, and whatever
``refresh`` finds in a 2xx body, such as a ``<meta refresh>``) are followed by hand, recorded, and
bounded by ``max_redirects`` and a loop check; the chain shares one deadline, spent only while
talking to origins. Headers are capped; the body is read raw and inflated here in bounded steps
(gzip/deflate only), under one cap on the wire and one after decompression, so a gzip bomb never
costs more than the cap. ``keep_first`` reads only that many decoded bytes and stops, without
failing (robots.txt: RFC 9309 parses the first 500 KiB).

    PermanentError  bad_url, bad_scheme, blocked_address, dns_error, robots_disallowed,
                    too_many_redirects, redirect_loop, too_large, headers_too_large,
                    unsupported_content_type, http_status (4xx, odd 3xx), tls_error, decode_error
    TransientError  timeout, connect_error, protocol_error (peer hung up), host_busy,
                    robots_unavailable, http_status (408, 429, 5xx; retry_after from Retry-After,
                    which also pauses the host in ``politeness``)

A status in ``accept`` (304 for a conditional poll, 4xx/5xx for robots.txt) is returned, not raised,
with an empty body. This module is the one place a GET talks to httpx; every httpx exception is
translated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from ..errors import PermanentError, TransientError
from ..settings import FetchSettings
from ..timeutil import parse_retry_after
from .netguard import BlockedAddress, UnknownHost
from .urls import http_url, resolve_location

if TYPE_CHECKING:  # politeness fetches robots.txt through get()
    from .politeness import Politeness

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 408 is the server saying "you were slow", so the same request may well work later.
TRANSIENT_STATUSES = frozenset({408, 429})
# Only what _Inflate can decode under a cap; httpx would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"
# A body we do not want (a redirect's "Moved" page, the text of an accepted 304 or 404) is read and
# dropped, up to this many bytes and for this long: httpcore keeps a connection only once its
# response was read to the end, so leaving it unread costs every hop of a short link a new
# connection (a TCP, on the web a TLS, handshake: most of a request's CPU). Past either bound the
# connection is closed instead, as before.
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Hop:
    """One redirect: the URL that answered and its status (200 for a <meta refresh>)."""

    url: str
    status: int


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one GET; ``of(settings)`` gives the worker's, the same for every caller."""

    max_redirects: int
    max_bytes: int  # on the wire
    max_decompressed_bytes: int
    max_header_bytes: int
    total_timeout: float  # the whole chain, time spent talking to origins

    @classmethod
    def of(cls, s: FetchSettings) -> Limits:
        return cls(s.max_redirects, s.max_bytes, s.max_decompressed_bytes, s.max_header_bytes, s.total_timeout)


@dataclass(frozen=True, slots=True)
class Page:
    url: str  # as asked
    final_url: str  # after all redirects
    redirects: tuple[Hop, ...]
    status: int
    headers: httpx.Headers
    body: bytes  # Content-Encoding undone; empty for a status in ``accept``


class _Budget:
    """The total deadline, spent only while talking to origins: waiting for a host's turn
    (politeness) is queueing, and must not make a slow queue look like a slow site.

    ``async with budget:`` around each hop's exchange (an object, not a generator-based context
    manager: a hop pays for no generator)."""

    __slots__ = ("_started", "_timeout", "left", "total", "url")

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.total, self.left = url, seconds, seconds
        self._started = 0.0
        self._timeout: asyncio.Timeout | None = None

    async def __aenter__(self) -> None:
        self._started = time.monotonic()
        if self.left <= 0:
            raise self._expired()
        self._timeout = asyncio.timeout(self.left)
        await self._timeout.__aenter__()

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        try:
            assert self._timeout is not None
            await self._timeout.__aexit__(kind, error, tb)  # type: ignore[arg-type]  # expired: TimeoutError
            if isinstance(error, TimeoutError):
                raise error
        except TimeoutError as e:
            raise self._expired() from e
        finally:
            self.left -= time.monotonic() - self._started

    def _expired(self) -> TransientError:
        return TransientError("timeout", f"fetching {self.url} took longer than {self.total:g}s in total")


async def get(
    url: str,
    client: httpx.AsyncClient,
    limits: Limits,
    politeness: Politeness | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    content_types: Collection[str] | None = None,
    accept: Collection[int] = (),
    keep_first: int | None = None,
    refresh: Callable[[Page], str | None] | None = None,
    robots: bool = True,
) -> Page:
    """GET ``url`` through its redirect chain. See the module docstring for what is checked and raised.

    ``content_types``: media types a 2xx may have (None: any). ``refresh(page)``: a URL the 2xx
    page sends the client on to (followed as a hop), or None. ``robots=False``: do not ask
    robots.txt (the request for robots.txt itself).
    """
    budget = _Budget(url, limits.total_timeout)
    # The client's headers with ours, and its timeouts, merged once a chain rather than by
    # build_request on every hop (a client that holds cookies still goes through build_request).
    sent = client.headers.copy()
    sent.update({"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})})
    extensions = {"timeout": client.timeout.as_dict()}
    direct = not client.cookies
    accepted = {t.lower() for t in content_types} if content_types is not None else None
    requested = http_url(url)  # parsed once a hop: the request is built from it
    current = str(requested)
    hops: list[Hop] = []
    seen = {current}
    # Cookies live for one chain: a hop may set one the next hop wants, but the worker's client
    # keeps none (fetch.build_client: a jar shared by every fetch grows with every site's cookies,
    # and httpx copies all of it into each request it builds).
    jar = httpx.Cookies()

    def next_hop(status: int, location: str) -> tuple[httpx.URL, str]:
        hops.append(Hop(current, status))
        parsed = http_url(location)
        target = str(parsed)
        if target in seen:
            raise PermanentError("redirect_loop", f"{current} redirects back to {target} (hop {len(hops)})")
        if len(hops) > limits.max_redirects:
            raise PermanentError("too_many_redirects", f"{url} redirected more than {limits.max_redirects} times")
        seen.add(target)
        return parsed, target

    while True:
        if politeness is not None and robots:
            await politeness.check_robots(requested, client)
        turn = politeness.slot(requested) if politeness is not None else contextlib.nullcontext()
        async with turn, budget:
            try:
                if direct:
                    request = httpx.Request("GET", requested, headers=sent, extensions=extensions)
                else:
                    request = client.build_request("GET", requested, headers=sent)
                if jar:
                    jar.set_cookie_header(request)
                response = await send(client, request)
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                raise translate(e, current) from e
            try:
                status = response.status_code
                if "set-cookie" in response.headers:
                    jar.extract_cookies(response)
                _check_headers(response, current, limits)
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    requested, current = next_hop(status, resolve_location(current, response.headers["location"]))
                    await _drain(response)
                    continue
                if status in accept:
                    await _drain(response)
                    return Page(url, current, tuple(hops), status, response.headers, b"")
                try:
                    _check_status(response, current)
                except TransientError as e:
                    if e.retry_after is not None and politeness is not None:
                        politeness.pause(current, e.retry_after)  # the whole host asked for a break
                    raise
                if accepted is not None:
                    _check_content_type(response.headers.get("content-type", ""), current, accepted)
                body = await _read_capped(response, current, limits, keep_first)
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                raise translate(e, current) from e
            finally:
                await response.aclose()
        page = Page(url, current, tuple(hops), status, response.headers, body)
        target = refresh(page) if refresh is not None else None
        if target is not None and target != current:
            requested, current = next_hop(status, target)
            continue
        return page


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``client.send(request, stream=True)`` without the layers of it a GET here (or an alert's
    POST, sinks/http_errors.py) does not use:
    httpx's auth flow, its redirect handling (which builds the next request for every 3xx even
    when it follows none), its cookie jar (a urllib request built per response; the chain's own jar
    is above) and its hooks. One hop costs the event loop a third less (bench-e2e's profile: a
    tenth of the loop's CPU was those layers). The transport is the client's own for the URL
    (``_transport_for_url``: httpx 0.28's, pinned in pyproject), so what a client is built with
    (build_client's guarded pools, a test's MockTransport) still serves every request."""
    if client.is_closed:
        raise RuntimeError("Cannot send a request, as the client has been closed.")
    response = await client._transport_for_url(request.url).handle_async_request(request)
    response.request = request
    return response


async def _drain(response: httpx.Response) -> None:
    """Read and drop the body, so the connection can serve the next request; give up (the
    connection is then closed) past DRAIN_BYTES, DRAIN_SECONDS or any error: nothing is lost."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > DRAIN_BYTES:
        return
    received = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for raw in response.aiter_raw():
                received += len(raw)
                if received > DRAIN_BYTES:
                    return
    except (TimeoutError, httpx.HTTPError):
        return


def _check_headers(response: httpx.Response, url: str, limits: Limits) -> None:
    size = sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    if size > limits.max_header_bytes:
        raise PermanentError(
            "headers_too_large", f"{url} sent {size} bytes of headers; the limit is {limits.max_header_bytes}"
        )


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"HTTP {status} from {url}"
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError("http_status", detail, retry_after=parse_retry_after(response.headers.get("retry-after")))
    # 4xx, and 3xx that are not redirects we can follow (304 unasked, 300, a 30x without Location).
    raise PermanentError("http_status", detail)


def _check_content_type(content_type: str, url: str, accepted: set[str]) -> None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in accepted:
        shown = media_type or "no Content-Type"
        raise PermanentError("unsupported_content_type", f"{shown} from {url}; accepted: {', '.join(sorted(accepted))}")


class _Inflate:
    """One Content-Encoding layer (gzip or deflate), decoded in bounded steps so that a few KB of
    gzip bomb never become more than ``limit`` bytes in memory, not even for a moment. Past the
    limit it raises too_large, or with ``truncate`` gives what fits and marks itself ``full``."""

    def __init__(self, encoding: str, limit: int, url: str, truncate: bool = False) -> None:
        self.encoding, self.limit, self.url, self.produced = encoding, limit, url, 0
        self.truncate, self.full = truncate, False
        self._first = True
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        room = self.limit - self.produced
        try:
            out = self._d.decompress(data, room + 1)
        except zlib.error as e:
            if not (self._first and self.encoding == "deflate"):
                raise PermanentError("decode_error", f"{self.url}: bad {self.encoding} data: {e}") from e
            # "deflate" is sent both zlib-wrapped (as the RFC says) and raw (as IIS did); try raw.
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            self._first = False
            return self.feed(data)
        self._first = False
        if len(out) > room or self._d.unconsumed_tail:
            out = self._over(out, room)
        self.produced += len(out)
        return out

    def flush(self) -> bytes:
        out = self._d.flush()
        room = self.limit - self.produced
        if len(out) > room:
            out = self._over(out, room)
        self.produced += len(out)
        return out

    def _over(self, out: bytes, room: int) -> bytes:
        if not self.truncate:
            raise PermanentError("too_large", f"{self.url} decompresses to more than {self.limit} bytes")
        self.full = True
        return out[:room]


def _decoders(response: httpx.Response, url: str, limit: int, truncate: bool) -> list[_Inflate]:
    layers = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")]
    decoders = []
    # Encodings are listed in the order they were applied; undo them last first.
    for enc in reversed([e for e in layers if e and e != "identity"]):
        if enc not in ("gzip", "x-gzip", "deflate"):
            raise PermanentError("decode_error", f"{url} sent Content-Encoding {enc!r}, which we did not ask for")
        decoders.append(_Inflate(enc, limit, url, truncate))
    return decoders


async def _read_capped(response: httpx.Response, url: str, limits: Limits, keep_first: int | None) -> bytes:
    """The body under both caps: too_large past either, or with ``keep_first`` the first bytes and no error."""
    max_bytes = limits.max_bytes
    truncate = keep_first is not None
    limit = min(limits.max_decompressed_bytes, keep_first) if keep_first is not None else limits.max_decompressed_bytes
    declared = response.headers.get("content-length", "").strip()
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise PermanentError("too_large", f"{url} declares {int(declared)} bytes; the limit is {max_bytes}")
    decoders = _decoders(response, url, limit, truncate)
    chunks: list[bytes] = []
    received = decoded = 0

    def keep(data: bytes) -> bool:
        """Add decoded bytes; True once no more are wanted."""
        nonlocal decoded
        if decoded + len(data) > limit:
            if not truncate:
                raise PermanentError("too_large", f"{url} decompresses to more than {limit} bytes")
            data = data[: limit - decoded]
        decoded += len(data)
        chunks.append(data)
        return truncate and (decoded >= limit or any(d.full for d in decoders))

    # Raw bytes, decoded here: httpx's own decoder inflates a whole network read at once, which is
    # how a 64 KB gzip bomb becomes 60 MB before anyone can count it.
    async for raw in response.aiter_raw():
        received += len(raw)
        if received > max_bytes:
            if truncate:
                return b"".join(chunks)
            raise PermanentError("too_large", f"{url} sent more than {max_bytes} bytes")
        for d in decoders:
            raw = d.feed(raw)
        if keep(raw):
            return b"".join(chunks)
    for i, d in enumerate(decoders):
        data = d.flush()
        for later in decoders[i + 1 :]:
            data = later.feed(data)
        if keep(data):
            break
    return b"".join(chunks)


def translate(e: Exception, url: str) -> Exception:
    """Map an httpx exception to the most specific wirewatch error, naming the URL."""
    what = f"{type(e).__name__} for {url}: {e}" if str(e) else f"{type(e).__name__} for {url}"
    if isinstance(e, BlockedAddress):
        return PermanentError("blocked_address", f"{url}: {e}")
    if isinstance(e, UnknownHost):
        return PermanentError("dns_error", f"{url}: {e}")
    if isinstance(e, httpx.TimeoutException):
        return TransientError("timeout", what)
    if isinstance(e, httpx.ConnectError) and _caused_by(e, lambda c: isinstance(c, ssl.SSLError)):
        # A bad certificate or a broken TLS setup does not fix itself within a retry budget.
        return PermanentError("tls_error", what)
    if isinstance(e, httpx.RemoteProtocolError) and _caused_by(
        e, lambda c: getattr(c, "error_status_hint", None) == 431
    ):
        # The HTTP parser's own ceiling (100 KiB) on a response head.
        return PermanentError("headers_too_large", what)
    if isinstance(e, httpx.NetworkError):
        return TransientError("connect_error", what)
    if isinstance(e, httpx.RemoteProtocolError):
        # Usually a server that hung up mid-response: worth another try.
        return TransientError("protocol_error", what)
    if isinstance(e, httpx.DecodingError):
        return PermanentError("decode_error", what)
    if isinstance(e, httpx.UnsupportedProtocol):
        return PermanentError("bad_scheme", what)
    if isinstance(e, (httpx.InvalidURL, httpx.LocalProtocolError)):
        return PermanentError("bad_url", what)
    if isinstance(e, httpx.ProtocolError):
        return TransientError("protocol_error", what)
    return TransientError("connect_error", what)


def _caused_by(e: BaseException, test: Callable[[BaseException], bool]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if test(cur):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False
