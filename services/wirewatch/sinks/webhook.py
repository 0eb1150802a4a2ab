"""Webhook alert channel: POST each message as JSON to one URL.

In: an alert (schemas/alert.schema.json, every kind) or a channel notice
(schemas/notice.schema.json). Out: the message itself as the body, unchanged, so the schemas are
the receiver's contract. Headers let receivers deduplicate and verify:

    Idempotency-Key         the alert's ``alert_id`` (a notice's ``notice_id``): stable per alert
                            and per update, so a redelivery carries the same key
    X-Wirewatch-Kind        the message's ``kind`` (new, update, digest, channel_failing, ...)
    X-Wirewatch-Signature   ``sha256=<hex>``: HMAC-SHA256 of the exact body bytes, when a secret is set

5xx, 429 and network errors are ``TransientError``; other 4xx are ``PermanentError`` with the
receiver's answer (see ``http_errors``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
from pydantic import SecretStr

from . import http_errors
from .render import message_id


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """What a receiver does with X-Wirewatch-Signature (constant-time compare)."""
    return bool(header) and header is not None and hmac.compare_digest(sign(secret, body), header)


def target_of(kind: str, url: str) -> str:
    """A stable ledger key and log name per receiver that never shows a token held in the URL."""
    return f"{kind}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class WebhookChannel(http_errors.JsonChannel):
    kind = "webhook"

    def __init__(self, url: str, secret: SecretStr | None = None, timeout: float = 10.0) -> None:
        super().__init__(target_of(self.kind, url), timeout)
        self.url = url
        self._secret = secret.get_secret_value().encode() if secret else None

    def headers(self, body: bytes, message: dict[str, Any]) -> dict[str, str]:
        h = {
            "Content-Type": "application/json",
            "Idempotency-Key": message_id(message),
            "X-Wirewatch-Kind": str(message.get("kind") or ""),
        }
        if self._secret:
            h["X-Wirewatch-Signature"] = sign(self._secret, body)
        return h

    async def send(self, message: dict[str, Any]) -> None:
        body = orjson.dumps(message)
        await self.post_json(self.url, body, self.headers(body, message))
