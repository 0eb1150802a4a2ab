"""Webhook alert channel: POST each alert as JSON (schemas/alert.schema.json) to one URL.

Headers let receivers deduplicate and verify: ``Idempotency-Key`` is the alert's stable id, and
``X-Wirewatch-Signature: sha256=<hex>`` is an HMAC-SHA256 of the body when a secret is set.
5xx, 429 and network errors are ``TransientError`` (retried by the agent); other 4xx are
``PermanentError`` (dead-lettered with the receiver's answer).
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
import orjson
from pydantic import SecretStr

from ..errors import PermanentError, TransientError
from ..metrics import Metrics


class WebhookChannel:
    kind = "webhook"

    def __init__(self, url: str, secret: SecretStr | None, metrics: Metrics, timeout: float = 10.0) -> None:
        self.url = url
        self._secret = secret.get_secret_value().encode() if secret else None
        self._metrics = metrics
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        # The ledger key: stable per receiver, without leaking a token that may sit in the URL.
        self.target = f"webhook:{hashlib.sha256(url.encode()).hexdigest()[:16]}"

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def headers(self, body: bytes, alert_id: str) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Idempotency-Key": alert_id, "User-Agent": "wirewatch-alerts/0.1"}
        if self._secret:
            h["X-Wirewatch-Signature"] = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        return h

    async def send(self, alert: dict) -> None:
        assert self._client is not None, "channel not started"
        body = orjson.dumps(alert)
        try:
            resp = await self._client.post(self.url, content=body, headers=self.headers(body, alert["alert_id"]))
        except httpx.TimeoutException as e:
            self._metrics.alerts.labels(channel=self.kind, outcome="retried").inc()
            raise TransientError("receiver_timeout", f"{self.target}: {e!r}") from e
        except httpx.HTTPError as e:
            self._metrics.alerts.labels(channel=self.kind, outcome="retried").inc()
            raise TransientError("receiver_unreachable", f"{self.target}: {e!r}") from e
        if resp.status_code >= 500 or resp.status_code == 429:
            self._metrics.alerts.labels(channel=self.kind, outcome="retried").inc()
            retry_after = resp.headers.get("Retry-After")
            raise TransientError(
                "receiver_error", f"{self.target}: HTTP {resp.status_code}",
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        if resp.status_code >= 400:
            self._metrics.alerts.labels(channel=self.kind, outcome="rejected").inc()
            raise PermanentError("receiver_rejected", f"{self.target}: HTTP {resp.status_code}: {resp.text[:500]}")
        self._metrics.alerts.labels(channel=self.kind, outcome="delivered").inc()
