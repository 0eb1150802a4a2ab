"""Resolve and fetch: a shared link in, the article's HTML and the redirect chain that led to it out.

``fetch(url, client, settings)`` follows redirects by hand (to record each hop and enforce the hop
limit, loop check and total deadline), streams the body under a size cap, checks the content type
and decodes the bytes to text. It returns a FetchResult or raises from ``wirewatch.errors``:

    PermanentError  bad_url, bad_scheme, too_many_redirects, redirect_loop, too_large,
                    unsupported_content_type, http_status (4xx, odd 3xx), tls_error,
                    protocol_error, decode_error
    TransientError  timeout, connect_error, protocol_error (peer hung up), http_status (408, 429, 5xx;
                    with retry_after from Retry-After)

This module is the one place that talks to httpx; every httpx exception is translated here.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import charset_normalizer
import httpx

from ..errors import PermanentError, TransientError
from ..settings import FetchSettings
from .urls import check_http_url, normalise_link, resolve_location

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 408 is the server saying "you were slow", so the same request may well work later.
TRANSIENT_STATUSES = frozenset({408, 429})

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
# Browsers look for <meta charset> in the first 1024 bytes; CMSes often put it after scripts, so look further.
_META_SCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding: browsers decode pages labelled latin-1/ascii as windows-1252, and so must we
# or curly quotes and dashes in such pages turn into control characters.
_WHATWG_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252"}


@dataclass(frozen=True, slots=True)
class Hop:
    """One redirect response: the URL that answered and its status."""

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


def build_client(settings: FetchSettings) -> httpx.AsyncClient:
    """The one HTTP client of a fetch worker; share it across fetches so connections are pooled."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0),
        headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT},
        # We follow redirects ourselves to record the chain and apply our own limits.
        follow_redirects=False,
        verify=True,
        # Settings are the only source of configuration; a stray HTTP(S)_PROXY must not reroute fetches.
        trust_env=False,
    )


async def fetch(url: str, client: httpx.AsyncClient, settings: FetchSettings) -> FetchResult:
    """Follow ``url``'s redirect chain to the article and read it. See the module docstring for errors."""
    start = normalise_link(url)
    try:
        async with asyncio.timeout(settings.total_timeout):
            return await _follow(url, start, client, settings)
    except TimeoutError as e:
        raise TransientError("timeout", f"fetching {url} took longer than {settings.total_timeout:g}s in total") from e


async def _follow(submitted: str, start: str, client: httpx.AsyncClient, settings: FetchSettings) -> FetchResult:
    current = start
    hops: list[Hop] = []
    seen = {current}
    while True:
        try:
            request = client.build_request("GET", current)
            response = await client.send(request, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise _translate(e, current) from e
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES and "location" in response.headers:
                hops.append(Hop(current, status))
                target = check_http_url(resolve_location(current, response.headers["location"]))
                if target in seen:
                    raise PermanentError("redirect_loop", f"{current} redirects back to {target} (hop {len(hops)})")
                if len(hops) > settings.max_redirects:
                    raise PermanentError(
                        "too_many_redirects", f"{submitted} redirected more than {settings.max_redirects} times"
                    )
                seen.add(target)
                current = target
                continue
            _check_status(response, current)
            content_type = response.headers.get("content-type", "")
            _check_content_type(content_type, current, settings)
            body = await _read_capped(response, current, settings.max_bytes)
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise _translate(e, current) from e
        finally:
            await response.aclose()
        return FetchResult(
            url=submitted,
            final_url=current,
            redirects=tuple(hops),
            status=status,
            content_type=content_type,
            html=decode_html(body, content_type),
        )


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


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise PermanentError("too_large", f"{url} declares {int(declared)} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    received = 0
    # Decoded bytes are counted, so a small gzip bomb is stopped as early as a large page.
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise PermanentError("too_large", f"{url} sent more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _translate(e: Exception, url: str) -> Exception:
    """Map an httpx exception to the most specific wirewatch error, naming the URL."""
    what = f"{type(e).__name__} for {url}: {e}" if str(e) else f"{type(e).__name__} for {url}"
    if isinstance(e, httpx.TimeoutException):
        return TransientError("timeout", what)
    if isinstance(e, httpx.ConnectError) and _caused_by(e, ssl.SSLCertVerificationError):
        # A bad certificate does not fix itself within a retry budget.
        return PermanentError("tls_error", what)
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


def _caused_by(e: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, kind):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


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
