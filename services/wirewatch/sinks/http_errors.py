"""HTTP answers and httpx errors -> the error tree, shared by the channels that speak HTTP.

    5xx, 408, 429, network errors, timeouts  -> TransientError (the alert waits, retried until delivered)
    other 4xx                                -> PermanentError ``receiver_rejected`` with the answer

``JsonChannel`` is the part the JSON-over-HTTP channels (webhook, Slack, Alertmanager) share: one
client per channel opened by ``start()``, and ``post_json(url, body)`` that sends JSON bytes through
``post``. A channel adds only its payload, its URL and any headers of its own.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import PermanentError, TransientError
from ..stages.http_get import send
from ..stages.netstream import Transport
from ..timeutil import parse_retry_after


def retry_after(resp: httpx.Response) -> float | None:
    """The receiver's Retry-After in seconds (delta-seconds or an HTTP date), or None."""
    return parse_retry_after(resp.headers.get("Retry-After"))


async def post(client: httpx.AsyncClient, target: str, request: httpx.Request) -> httpx.Response:
    """Send a POST and translate every failure; returns the 2xx/3xx response."""
    try:
        # On the client's transport, as a GET's hops are (http_get.send): the client's auth,
        # redirect, cookie and hook layers were an eighth of a POST's CPU, and a receiver's cookies
        # and redirects are not followed anyway.
        resp = await send(client, request)
        try:
            await resp.aread()
        finally:
            await resp.aclose()
    except httpx.TimeoutException as e:
        raise TransientError("receiver_timeout", f"{target}: {e!r}") from e
    except httpx.HTTPError as e:
        raise TransientError("receiver_unreachable", f"{target}: {e!r}") from e
    if resp.status_code >= 500 or resp.status_code in (408, 429):  # 408: the receiver timed out, try again
        raise TransientError(
            "receiver_error", f"{target}: HTTP {resp.status_code}: {resp.text[:300]}", retry_after=retry_after(resp)
        )
    if resp.status_code >= 400:
        raise PermanentError("receiver_rejected", f"{target}: HTTP {resp.status_code}: {resp.text[:500]}")
    return resp


def client(timeout: float) -> httpx.AsyncClient:
    # No redirects: a receiver that moves must be reconfigured, not followed with a signed body.
    # The fetch client's sockets (asyncio's own: stages/netstream.py), with httpx's default
    # certificates and limits; a proxy from the environment still applies (httpx mounts it).
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": "wirewatch-alerts/0.1"},
        transport=Transport(ssl_context=httpx.create_ssl_context(trust_env=True)),
    )


class JsonChannel:
    """Lifecycle and delivery step of a channel that POSTs JSON; ``target`` names it in errors."""

    kind = "http"

    def __init__(self, target: str, timeout: float) -> None:
        self.target = target
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._urls: dict[str, httpx.URL] = {}  # a channel posts to one URL or few: each parsed once
        self._extensions: dict[str, Any] = {}

    async def start(self) -> None:
        if self._client is None:
            self._client = client(self._timeout)
            self._extensions = {"timeout": self._client.timeout.as_dict()}

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post_json(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        assert self._client is not None, "channel not started"
        # Built as build_request would (the client's headers under ours, its timeouts) without its
        # merges of a base URL, cookies and parameters, which this client never has: 70 -> 31 us of
        # CPU a request (issue 10; the fetch's hops are built the same way, http_get.get).
        sent = self._client.headers.copy()
        sent.update({"Content-Type": "application/json", **(headers or {})})
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = self._urls[url] = httpx.URL(url)
        request = httpx.Request("POST", parsed, content=body, headers=sent, extensions=self._extensions)
        return await post(self._client, self.target, request)
