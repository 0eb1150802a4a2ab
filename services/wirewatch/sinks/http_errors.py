"""HTTP answers and httpx errors -> the error tree, shared by the channels that speak HTTP.

    5xx, 429, network errors, timeouts  -> TransientError (retried until the delivery deadline)
    other 4xx                           -> PermanentError ``receiver_rejected`` with the answer
"""

from __future__ import annotations

import httpx

from ..errors import PermanentError, TransientError


def retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


async def post(client: httpx.AsyncClient, target: str, url: str, **kwargs) -> httpx.Response:
    """POST and translate every failure; returns the 2xx/3xx response."""
    try:
        resp = await client.post(url, **kwargs)
    except httpx.TimeoutException as e:
        raise TransientError("receiver_timeout", f"{target}: {e!r}") from e
    except httpx.HTTPError as e:
        raise TransientError("receiver_unreachable", f"{target}: {e!r}") from e
    if resp.status_code >= 500 or resp.status_code == 429:
        raise TransientError("receiver_error", f"{target}: HTTP {resp.status_code}: {resp.text[:300]}",
                             retry_after=retry_after(resp))
    if resp.status_code >= 400:
        raise PermanentError("receiver_rejected", f"{target}: HTTP {resp.status_code}: {resp.text[:500]}")
    return resp


def client(timeout: float) -> httpx.AsyncClient:
    # No redirects: a receiver that moves must be reconfigured, not followed with a signed body.
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers={"User-Agent": "wirewatch-alerts/0.1"})
