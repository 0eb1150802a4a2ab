"""Resolve and fetch: a shared link in, the article's HTML and the redirect chain that led to it out.

``fetch(url, client, settings, politeness)`` follows redirects by hand (HTTP 301/302/303/307/308
and ``<meta http-equiv=refresh>``), recording each hop and enforcing the hop limit, loop check and
total deadline; waits for the host's turn and asks its robots.txt (``politeness``, optional);
streams the body under two caps (bytes on the wire, bytes after gzip/deflate), checks the header
size and content type, and decodes the bytes to text. The client from ``build_client`` refuses
non-public addresses at connect time on every hop (``netguard``). It returns a FetchResult or
raises from ``wirewatch.errors``:

    PermanentError  bad_url, bad_scheme, blocked_address, dns_error, robots_disallowed,
                    too_many_redirects, redirect_loop, too_large, headers_too_large,
                    unsupported_content_type, http_status (4xx, odd 3xx), tls_error, decode_error
    TransientError  timeout, connect_error, protocol_error (peer hung up), host_busy,
                    robots_unavailable, http_status (408, 429, 5xx; with retry_after from Retry-After)

This module is the one place an article fetch talks to httpx; every httpx exception is translated
here (sources/poller.py and sinks/http_errors.py translate those of feed polls and alert sends).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import charset_normalizer
import httpx
import lxml.etree
import lxml.html

from ..errors import PermanentError, TransientError
from ..settings import FetchSettings
from ..timeutil import parse_retry_after
from .netguard import AddressPolicy, BlockedAddress, GuardedTransport, Resolver, UnknownHost, system_resolver
from .politeness import Politeness
from .urls import check_http_url, normalise_link, resolve_location

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 408 is the server saying "you were slow", so the same request may well work later.
TRANSIENT_STATUSES = frozenset({408, 429})

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
# Only what _Inflate can decode under a cap; httpx would also offer br/zstd when installed.
_ACCEPT_ENCODING = "gzip, deflate"
# Browsers look for <meta charset> in the first 1024 bytes; CMSes often put it after scripts, so look further.
_META_SCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding: browsers decode pages labelled latin-1/ascii as windows-1252, and so must we
# or curly quotes and dashes in such pages turn into control characters.
_WHATWG_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252"}
# Shorteners answer with a tiny page whose <meta refresh> (often inside <noscript>) names the target.
_REFRESH_HINT = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)
_REFRESH = re.compile(r"""^\s*(\d+(?:\.\d*)?)\s*(?:[;,]\s*)?(?:url\s*=\s*)?(.*)$""", re.IGNORECASE | re.DOTALL)
# A refresh after longer than this is a page that reloads itself, not a redirect.
_MAX_REFRESH_DELAY = 30.0


@dataclass(frozen=True, slots=True)
class Hop:
    """One redirect: the URL that answered and its status (200 for a <meta refresh>)."""

    url: str
    status: int


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # as submitted
    final_url: str  # after all redirects
    redirects: tuple[Hop, ...]
    status: int
    content_type: str  # header value as sent
    html: str


def build_client(settings: FetchSettings, *, resolver: Resolver = system_resolver) -> httpx.AsyncClient:
    """The one HTTP client of a worker; share it so connections are pooled. Every connection it
    opens passes the address policy of ``settings`` (see netguard), whoever uses it."""
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=min(20, settings.max_connections), keepalive_expiry=30.0)
    policy = AddressPolicy(settings.allow_private_addresses, settings.allowed_networks)
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, limits, resolver=resolver),
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT, "Accept-Encoding": _ACCEPT_ENCODING},
        # We follow redirects ourselves to record the chain and apply our own limits.
        follow_redirects=False,
        # Settings are the only source of configuration; a stray HTTP(S)_PROXY must not reroute fetches.
        trust_env=False,
    )


class _Budget:
    """The total deadline, spent only while talking to origins: waiting for a host's turn
    (politeness) is queueing, and must not make a slow queue look like a slow site."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.total, self.left = url, seconds, seconds

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        started = time.monotonic()
        try:
            if self.left <= 0:
                raise TimeoutError
            async with asyncio.timeout(self.left):
                yield
        except TimeoutError as e:
            raise TransientError("timeout", f"fetching {self.url} took longer than {self.total:g}s in total") from e
        finally:
            self.left -= time.monotonic() - started


async def fetch(url: str, client: httpx.AsyncClient, settings: FetchSettings,
                politeness: Politeness | None = None) -> FetchResult:
    """Follow ``url``'s redirect chain to the article and read it. See the module docstring for errors."""
    start = normalise_link(url)
    return await _follow(url, start, client, settings, politeness, _Budget(url, settings.total_timeout))


async def _follow(submitted: str, start: str, client: httpx.AsyncClient, settings: FetchSettings,
                  politeness: Politeness | None, budget: _Budget) -> FetchResult:
    current = start
    hops: list[Hop] = []
    seen = {current}

    def next_hop(status: int, target: str) -> str:
        hops.append(Hop(current, status))
        target = check_http_url(target)
        if target in seen:
            raise PermanentError("redirect_loop", f"{current} redirects back to {target} (hop {len(hops)})")
        if len(hops) > settings.max_redirects:
            raise PermanentError("too_many_redirects", f"{submitted} redirected more than {settings.max_redirects} times")
        seen.add(target)
        return target

    while True:
        if politeness is not None:
            await politeness.check_robots(current, client)
        turn = politeness.slot(current) if politeness is not None else contextlib.nullcontext()
        async with turn, budget.running():
            try:
                response = await client.send(client.build_request("GET", current), stream=True)
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                raise _translate(e, current) from e
            try:
                status = response.status_code
                _check_headers(response, current, settings)
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    current = next_hop(status, resolve_location(current, response.headers["location"]))
                    continue
                try:
                    _check_status(response, current)
                except TransientError as e:
                    if e.retry_after and politeness is not None:
                        politeness.pause(current, e.retry_after)
                    raise
                content_type = response.headers.get("content-type", "")
                _check_content_type(content_type, current, settings)
                body = await _read_capped(response, current, settings)
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                raise _translate(e, current) from e
            finally:
                await response.aclose()
        text = decode_html(body, content_type)
        refresh = meta_refresh(text, current)
        if refresh is not None and refresh != current:
            current = next_hop(status, refresh)
            continue
        return FetchResult(
            url=submitted,
            final_url=current,
            redirects=tuple(hops),
            status=status,
            content_type=content_type,
            html=text,
        )


def meta_refresh(text: str, base: str) -> str | None:
    """The URL a page sends the browser to with ``<meta http-equiv=refresh content="0; url=...">``.

    The head of the document is parsed, not searched as text: a tag inside an HTML comment (an
    old-IE conditional comment, a commented-out template) is no redirect, and a regex cannot tell.
    A cheap text test first, so the parser runs only on the few pages that name a refresh at all.
    """
    head = text[:_META_SCAN_BYTES * 2]
    if not _REFRESH_HINT.search(head):
        return None
    try:
        doc = lxml.html.document_fromstring(head)
    except (lxml.etree.ParserError, ValueError):  # nothing parsable: no element, so no refresh
        return None
    for tag in doc.iter("meta"):
        if (tag.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        m = _REFRESH.match(tag.get("content") or "")
        if not m or float(m.group(1)) > _MAX_REFRESH_DELAY:
            continue
        target = m.group(2).strip().strip("\"'").strip()
        if target:
            return resolve_location(base, target)
    return None


def _check_headers(response: httpx.Response, url: str, settings: FetchSettings) -> None:
    size = sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    if size > settings.max_header_bytes:
        raise PermanentError("headers_too_large", f"{url} sent {size} bytes of headers; the limit is {settings.max_header_bytes}")


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"HTTP {status} from {url}"
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError("http_status", detail, retry_after=parse_retry_after(response.headers.get("retry-after")))
    # 4xx, and 3xx that are not redirects we can follow (304, 300, a 30x without Location).
    raise PermanentError("http_status", detail)


def _check_content_type(content_type: str, url: str, settings: FetchSettings) -> None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    accepted = {t.lower() for t in settings.content_types}
    if media_type not in accepted:
        shown = media_type or "no Content-Type"
        raise PermanentError("unsupported_content_type", f"{shown} from {url}; accepted: {', '.join(sorted(accepted))}")


class _Inflate:
    """One Content-Encoding layer (gzip or deflate), decoded in bounded steps so that a few KB of
    gzip bomb never become more than ``limit`` bytes in memory, not even for a moment."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.encoding, self.limit, self.url, self.produced = encoding, limit, url, 0
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
            raise PermanentError("too_large", f"{self.url} decompresses to more than {self.limit} bytes")
        self.produced += len(out)
        return out

    def flush(self) -> bytes:
        out = self._d.flush()
        self.produced += len(out)
        if self.produced > self.limit:
            raise PermanentError("too_large", f"{self.url} decompresses to more than {self.limit} bytes")
        return out


def _decoders(response: httpx.Response, url: str, limit: int) -> list[_Inflate]:
    layers = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")]
    decoders = []
    # Encodings are listed in the order they were applied; undo them last first.
    for enc in reversed([e for e in layers if e and e != "identity"]):
        if enc not in ("gzip", "x-gzip", "deflate"):
            raise PermanentError("decode_error", f"{url} sent Content-Encoding {enc!r}, which we did not ask for")
        decoders.append(_Inflate(enc, limit, url))
    return decoders


async def _read_capped(response: httpx.Response, url: str, settings: FetchSettings) -> bytes:
    max_bytes, max_decoded = settings.max_bytes, settings.max_decompressed_bytes
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise PermanentError("too_large", f"{url} declares {int(declared)} bytes; the limit is {max_bytes}")
    decoders = _decoders(response, url, max_decoded)
    chunks: list[bytes] = []
    received = decoded = 0

    def take(data: bytes) -> None:
        nonlocal decoded
        for d in decoders:
            data = d.feed(data)
        decoded += len(data)
        if decoded > max_decoded:
            raise PermanentError("too_large", f"{url} decompresses to more than {max_decoded} bytes")
        chunks.append(data)

    # Raw bytes, decoded here: httpx's own decoder inflates a whole network read at once, which is
    # how a 64 KB gzip bomb becomes 60 MB before anyone can count it.
    async for raw in response.aiter_raw():
        received += len(raw)
        if received > max_bytes:
            raise PermanentError("too_large", f"{url} sent more than {max_bytes} bytes")
        take(raw)
    for i, d in enumerate(decoders):
        data = d.flush()
        for later in decoders[i + 1:]:
            data = later.feed(data)
        decoded += len(data)
        if decoded > max_decoded:
            raise PermanentError("too_large", f"{url} decompresses to more than {max_decoded} bytes")
        chunks.append(data)
    return b"".join(chunks)


def _translate(e: Exception, url: str) -> Exception:
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
    if isinstance(e, httpx.RemoteProtocolError) and _caused_by(e, lambda c: getattr(c, "error_status_hint", None) == 431):
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


def decode_html(body: bytes, content_type: str = "") -> str:
    """Bytes to text: BOM, then the header's charset, then <meta charset>, then detection, then UTF-8.

    A BOM outranks the header as it does in browsers: it cannot be there by accident.
    Undecodable bytes are replaced, never fatal: one bad byte must not cost us the article.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    encoding = _charset_from_header(content_type) or _charset_from_meta(body) or _detect(body) or "utf-8"
    return body.decode(encoding, errors="replace")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name.replace("-", "_"), name)


def _charset_from_header(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return _codec(value)
    return None


def _charset_from_meta(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if not m:
        return None
    name = _codec(m.group(1).decode("ascii", "ignore"))
    # A meta tag readable as ASCII means the bytes are not UTF-16, whatever the tag claims (WHATWG).
    if name and name.startswith("utf-16"):
        return "utf-8"
    return name


def _detect(body: bytes) -> str | None:
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    return _codec(best.encoding) if best is not None else None
