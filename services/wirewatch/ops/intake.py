"""Intake rules of `POST /links` and `wirewatch submit`, pure: a request body in, the links to
accept (or one `IntakeRefused` with an HTTP status and a message listing what is wrong) out.

What is checked, in order: the bearer token (401), the body's size (413 over
`max_message_bytes`: what no topic would take is refused at the door), the body's shape (400), how
many URLs one request carries (413), then every URL (400 listing each bad one with why). A URL is accepted when
it is http(s), names a host, fits the length cap and its host is a valid internationalised name;
the host is normalised to its ASCII (punycode) form, so `https://bücher.example/x` and
`https://xn--bcher-kva.example/x` are the same link downstream. The per-client rate limit is a
token bucket per client address (`RateLimiter`), with the clock passed in for tests.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import idna
import orjson


@dataclass
class IntakeRefused(Exception):
    status: int
    message: str
    bad: list[dict[str, str]] | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.bad:
            out["bad_urls"] = self.bad
        return out


def check_token(header: str | None, token: str | None) -> None:
    """401 unless `Authorization: Bearer <token>` matches (no token configured: open, loopback only)."""
    if not token:
        return
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise IntakeRefused(401, "missing or wrong bearer token (Authorization: Bearer ...)")


def check_size(size: int | None, max_bytes: int) -> None:
    """413 when a request body (its Content-Length, or the bytes read) is over `max_bytes`."""
    if size is not None and size > max_bytes:
        raise IntakeRefused(413, f"body is {size:,} bytes; the limit is {max_bytes:,} (max_message_bytes)")


def parse_body(raw: bytes) -> list[Any]:
    """{"urls": [...]} or {"url": "..."} -> the list as sent (not yet validated)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise IntakeRefused(
            400, 'body is not JSON; expected {"urls": ["https://..."]} or {"url": "https://..."}'
        ) from None
    if not isinstance(body, dict):
        raise IntakeRefused(400, f'expected a JSON object {{"urls": [...]}}, got a JSON {type(body).__name__}')
    urls = body["urls"] if "urls" in body else ([body["url"]] if "url" in body else None)
    if not isinstance(urls, list) or not urls:
        raise IntakeRefused(400, 'expected {"urls": ["https://...", ...]} (a non-empty list) or {"url": "https://..."}')
    return urls


def normalise_url(url: Any, max_length: int) -> str:
    """The URL to submit, host in ASCII; ValueError saying why it cannot be a link."""
    if not isinstance(url, str):
        raise ValueError(f"not a string (a JSON {type(url).__name__})")
    url = url.strip()
    if not url:
        raise ValueError("empty")
    if len(url) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise ValueError("contains white space or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"cannot be parsed: {e}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"scheme {parts.scheme + ':' if parts.scheme else '(none)'} is not http or https")
    host = parts.hostname or ""
    if not host:
        raise ValueError("has no host")
    try:
        ipaddress.ip_address(host)
        ascii_host = host
    except ValueError:
        try:
            ascii_host = idna.encode(host.rstrip("."), uts46=True).decode("ascii")
        except idna.IDNAError as e:
            raise ValueError(f"host {host!r} is not a valid domain name: {e}") from None
        if "." not in ascii_host and ascii_host != "localhost":
            raise ValueError(f"host {host!r} is not a fully qualified name") from None
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    if parts.username or parts.password:
        raise ValueError("carries a user name or password")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def validate_urls(urls: list[Any], max_urls: int, max_length: int) -> list[str]:
    """Every URL normalised, or IntakeRefused: 413 over the cap, 400 listing each bad URL and why."""
    if len(urls) > max_urls:
        raise IntakeRefused(413, f"{len(urls)} URLs in one request; at most {max_urls}")
    good, bad = [], []
    for i, url in enumerate(urls):
        try:
            good.append(normalise_url(url, max_length))
        except ValueError as e:
            shown = url if isinstance(url, str) else orjson.dumps(url).decode()
            bad.append({"index": str(i), "url": shown[:200], "reason": str(e)})
    if bad:
        raise IntakeRefused(400, f"{len(bad)} of {len(urls)} URLs are not valid links; nothing was accepted", bad)
    return good


class RateLimiter:
    """A token bucket per client: `burst` requests at once, then `rate` a second. Remembers at most
    `max_clients` clients (the least recently seen are forgotten), so memory stays bounded."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.rate, self.burst, self.clock, self.max_clients = rate, burst, clock, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> float:
        """0 when `client` may go on now, else the seconds until it may (for Retry-After)."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait
