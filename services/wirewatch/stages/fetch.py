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

The request itself, its caps, hops and error mapping are the one guarded GET (``http_get``) that
feed polls and robots.txt use too; what is fetch's own is the article's content types, the
``<meta refresh>`` hop and decoding the bytes to text.
"""

from __future__ import annotations

import asyncio
import codecs
import http.cookiejar
import re
import ssl
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

import charset_normalizer
import httpx
import lxml.etree
import lxml.html

from ..settings import FetchSettings
from ..timeutil import parse_retry_after
from .http_get import REDIRECT_STATUSES, TRANSIENT_STATUSES, Hop, Limits, Page, get
from .netguard import AddressPolicy, GuardedTransport, Releasing, Resolver, system_resolver
from .politeness import Politeness
from .urls import normalise_link, resolve_location

try:
    import resource
except ImportError:  # not POSIX (Windows): no open-file limit to read, see kept_hosts
    resource = None  # type: ignore[assignment]

__all__ = [
    "REDIRECT_STATUSES",
    "TRANSIENT_STATUSES",
    "FetchResult",
    "Hop",
    "build_client",
    "decode_html",
    "fetch",
    "may_refresh",
    "meta_refresh",
    "parse_retry_after",
]

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
# Browsers look for <meta charset> in the first 1024 bytes; CMSes often put it after scripts, so look further.
_META_SCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding: browsers decode pages labelled latin-1/ascii as windows-1252, and so must we
# or curly quotes and dashes in such pages turn into control characters.
_WHATWG_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252"}
# Shorteners answer with a tiny page whose <meta refresh> (often inside <noscript>) names the target.
# Searched in the lowered text: a case-blind search of 16,384 characters took three times as long.
_REFRESH_HINT = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh")
_REFRESH = re.compile(r"""^\s*(\d+(?:\.\d*)?)\s*(?:[;,]\s*)?(?:url\s*=\s*)?(.*)$""", re.IGNORECASE | re.DOTALL)
# A refresh after longer than this is a page that reloads itself, not a redirect.
_MAX_REFRESH_DELAY = 30.0


Origin = tuple[bytes, bytes, int | None]


class HostPools(httpx.AsyncBaseTransport):
    """A small connection pool per origin, all behind one gate of ``max_connections`` requests.

    httpcore's pool (the transport before netstream.Transport) walked every connection it held on
    each request and each response closed and closed idle ones once it held more than
    ``max_keepalive_connections`` in all: one pool for ~100 hosts spent a third of the event
    loop's CPU per link there and still reopened connections. Per origin, a pool holds that
    host's few connections (politeness keeps ``per_host_concurrency`` in flight).

    A host's connection is kept for its next request (robots.txt, then the article; the next
    link) for ``keepalive_expiry`` seconds, however many other hosts come between: a worker
    reading a few hundred sites visits each every few seconds, and with pools only for the 100
    most recent hosts most requests paid a new TCP (on the web, TLS) handshake. Pools idle past the
    expiry are closed, as are the least recently used past ``keepalive_hosts`` (``kept_hosts``:
    clamped to a quarter of the open-file limit), so idle sockets stay under ``kept_hosts *
    per_host_concurrency``. Every pool is a GuardedTransport: each new connection still passes
    the address policy.
    """

    # How often, at most, the pools are looked over for ones idle past the expiry.
    SWEEP_SECONDS = 5.0

    def __init__(self, settings: FetchSettings, *, resolver: Resolver = system_resolver) -> None:
        self._policy = AddressPolicy(settings.allow_private_addresses, settings.allowed_networks)
        self._resolver = resolver
        self._limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=min(settings.per_host_concurrency, settings.max_connections),
            keepalive_expiry=settings.keepalive_expiry,
        )
        self._max_origins = kept_hosts(settings)
        self._expiry = settings.keepalive_expiry
        self._next_sweep = 0.0
        self._gate = asyncio.Semaphore(settings.max_connections)
        self._ssl: ssl.SSLContext | None = None  # built once, on the first pool: loading the CA store is slow
        # Least recently used first; the value is when the origin's last request started.
        self._pools: OrderedDict[Origin, tuple[GuardedTransport, float]] = OrderedDict()
        self._busy: Counter[Origin] = Counter()

    def _pool(self, origin: Origin, now: float) -> GuardedTransport:
        entry = self._pools.get(origin)
        if entry is not None:
            self._pools.move_to_end(origin)
            pool = entry[0]
        else:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(verify=True, trust_env=False)
            pool = GuardedTransport(
                self._policy, self._limits, resolver=self._resolver, ssl_context=self._ssl, gate=self._gate
            )
        self._pools[origin] = (pool, now)
        return pool

    async def _close_idle(self, now: float) -> None:
        """Close the pools past ``kept_hosts``, least recently used first, and every few seconds
        those idle past the expiry; a pool with a request in flight is left alone."""
        surplus = len(self._pools) - self._max_origins
        if surplus <= 0 and now < self._next_sweep:
            return
        if now >= self._next_sweep:
            self._next_sweep = now + min(self.SWEEP_SECONDS, self._expiry)
        stale = now - self._expiry
        closing = []
        # Oldest first, stopping at the first pool neither surplus nor stale: past kept_hosts this
        # runs on every request, and a scan of every pool was 0.9% of the event loop's samples.
        for origin, (_, used) in self._pools.items():
            if self._busy[origin]:
                continue
            if surplus <= 0 and used > stale:
                break
            closing.append(origin)
            surplus -= 1
        for origin in closing:
            await self._pools.pop(origin)[0].aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin: Origin = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        now = time.monotonic()
        pool = self._pool(origin, now)
        self._busy[origin] += 1

        def done() -> None:
            self._busy[origin] -= 1
            if not self._busy[origin]:
                del self._busy[origin]

        try:
            await self._close_idle(now)
            response = await pool.handle_async_request(request)
        except BaseException:
            done()
            raise
        response.stream = Releasing(response.stream, done)
        return response

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool, _ in pools:
            await pool.aclose()


def kept_hosts(settings: FetchSettings) -> int:
    """``keepalive_hosts``, but no more than a quarter of the process's open-file limit in idle
    sockets (``per_host_concurrency`` a host at most): storage, the broker and the requests in
    flight need the rest. Where no limit can be read (no `resource` module off POSIX), the setting
    as it is: that platform's sockets are not counted against a file-descriptor limit."""
    if resource is None:
        return settings.keepalive_hosts
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.keepalive_hosts
    return max(1, min(settings.keepalive_hosts, soft // (4 * settings.per_host_concurrency)))


class NoCookies(http.cookiejar.CookieJar):
    """The jar of the worker's one client, which keeps nothing: shared by every fetch it would grow
    with every site's cookies (and follow a reader from site to site), and httpx copies the whole jar
    into each request it builds: 1.4 ms of event-loop CPU a request at 100 cookies, 6.8 ms at 1,000.
    A redirect chain keeps its own cookies (http_get.get)."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # as submitted
    final_url: str  # after all redirects
    redirects: tuple[Hop, ...]
    status: int
    content_type: str  # header value as sent
    body: bytes  # the page as sent (Content-Encoding undone): what goes to the pool, not yet text

    @property
    def html(self) -> str:
        """The page as text (``decode_html``): CPU, so the fetch agent leaves it to the pool."""
        return decode_html(self.body, self.content_type)


def build_client(settings: FetchSettings, *, resolver: Resolver = system_resolver) -> httpx.AsyncClient:
    """The one HTTP client of a worker; share it so connections are pooled. Every connection it
    opens passes the address policy of ``settings`` (see netguard), whoever uses it."""
    return httpx.AsyncClient(
        transport=HostPools(settings, resolver=resolver),
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT},
        cookies=NoCookies(),
        # We follow redirects ourselves to record the chain and apply our own limits.
        follow_redirects=False,
        # Settings are the only source of configuration; a stray HTTP(S)_PROXY must not reroute fetches.
        trust_env=False,
    )


async def fetch(
    url: str, client: httpx.AsyncClient, settings: FetchSettings, politeness: Politeness | None = None
) -> FetchResult:
    """Follow ``url``'s redirect chain to the article and read it. See the module docstring for errors."""

    def refresh(page: Page) -> str | None:
        content_type = page.headers.get("content-type", "")
        if not may_refresh(page.body, content_type):  # most pages: no text made on the event loop
            return None
        return meta_refresh(decode_head(page.body, content_type), page.final_url)

    page = await get(
        normalise_link(url),
        client,
        Limits.of(settings),
        politeness,
        content_types=settings.content_types,
        refresh=refresh,
    )
    return FetchResult(
        url=url,
        final_url=page.final_url,
        redirects=page.redirects,
        status=page.status,
        content_type=page.headers.get("content-type", ""),
        body=page.body,
    )


def may_refresh(body: bytes, content_type: str = "") -> bool:
    """False when the page surely has no ``<meta refresh>``: its head holds no "refresh" in any
    case, read as bytes. Decoding a page to search its text cost the event loop more than the
    rest of its fetch (0.3 ms for a 190 KB page); bytes.lower() and a search, 0.01 ms. The bytes
    say it only where the text's letters are its bytes' (ASCII-compatible charsets); a page in
    UTF-16 or UTF-32 (a NUL among the first bytes) or labelled with a charset that spells ASCII
    otherwise (EBCDIC) is always decoded and parsed, as before."""
    head = body[: _META_SCAN_BYTES * 8]  # meta_refresh reads 16,384 characters: up to 4 bytes each
    if b"\0" in head[:_META_SCAN_BYTES]:
        return True
    declared = _charset_from_header(content_type)
    if declared is not None and "refresh".encode(declared, "replace") != b"refresh":
        return True
    return b"refresh" in head.lower()


def meta_refresh(text: str, base: str) -> str | None:
    """The URL a page sends the browser to with ``<meta http-equiv=refresh content="0; url=...">``.

    The head of the document is parsed, not searched as text: a tag inside an HTML comment (an
    old-IE conditional comment, a commented-out template) is no redirect, and a regex cannot tell.
    A cheap text test first, so the parser runs only on the few pages that name a refresh at all.
    """
    head = text[: _META_SCAN_BYTES * 2]
    if not _REFRESH_HINT.search(head.lower()):
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


def decode_head(body: bytes, content_type: str = "", size: int = _META_SCAN_BYTES * 8) -> str:
    """The text of a page's first ``size`` bytes (default: the 16,384 characters meta_refresh reads,
    at up to 4 bytes each), for a look at its head on the event loop: decoding a whole page to
    read its head cost 0.1-0.3 ms of the loop's time on the pages whose head says "refresh"
    somewhere (a script, a "Refresh" button). A UTF-8 character the cut splits is dropped, so a
    UTF-8 head is still read as UTF-8 rather than sent to charset detection (in another charset
    that may drop a byte or two at the end of the head: harmless here)."""
    if len(body) <= size:
        return decode_html(body, content_type)
    head = body[:size]
    lead = size - 1
    while lead > size - 4 and 0x80 <= head[lead] < 0xC0:  # back over continuation bytes
        lead -= 1
    first = head[lead]
    length = 2 if 0xC0 <= first < 0xE0 else 3 if 0xE0 <= first < 0xF0 else 4 if first >= 0xF0 else 1
    if size - lead < length:  # that character's last bytes are past the cut
        head = head[:lead]
    return decode_html(head, content_type)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib: codecs, not charsets
        return None
    name = info.name
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
