"""Prometheus Alertmanager channel: an alert or notice in -> one alert on Alertmanager's v2 API.

POST ``{base}/api/v2/alerts`` with a one-element list. Alertmanager identifies an alert by its
label set, so ``alert_id`` is a label: resending the same alert (a redelivery) updates the same
Alertmanager alert instead of raising a second one, and an update (its own ``alert_id``) is a new
one. Routing, grouping, silences and inhibition are then Alertmanager's. Labels:

    alertname  WirewatchCasualties | WirewatchChannelFailing
    severity, rule, kind, alert_id, story_id (when present), channel (notices)

Annotations carry the rendered text (summary = subject line, description = plain-text body) and
the article URL. ``channel_recovered`` resolves the matching ``WirewatchChannelFailing`` alert
by sending it with ``endsAt`` now.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..timeutil import iso
from . import http_errors
from .render import message_id, render, subject
from .webhook import target_of


def _now() -> str:
    return iso()


def am_alert(message: dict[str, Any]) -> dict[str, Any]:
    kind = str(message.get("kind") or "new")
    if kind in ("channel_failing", "channel_recovered"):
        labels = {
            "alertname": "WirewatchChannelFailing",
            "severity": "warning",
            "channel": str(message.get("channel") or ""),
            "target": str(message.get("target") or ""),
        }
        out: dict[str, Any] = {
            "labels": labels,
            "annotations": {"summary": subject(message), "description": render(message)},
        }
        if kind == "channel_recovered":
            out["endsAt"] = _now()
        elif message.get("failing_since"):
            out["startsAt"] = message["failing_since"]
        return out
    labels = {
        "alertname": "WirewatchCasualties",
        "severity": str(message.get("severity") or "warning"),
        "rule": str(message.get("rule") or ""),
        "kind": kind,
        "alert_id": message_id(message),
    }
    if message.get("story_id"):
        labels["story_id"] = str(message["story_id"])
    annotations = {"summary": subject(message), "description": render(message)}
    url = message.get("canonical_url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        annotations["url"] = url
    out = {"labels": {k: v for k, v in labels.items() if v}, "annotations": annotations}
    if message.get("raised_at"):
        out["startsAt"] = message["raised_at"]
    if "url" in annotations:
        out["generatorURL"] = annotations["url"]
    return out


class AlertmanagerChannel(http_errors.JsonChannel):
    kind = "alertmanager"

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(target_of(self.kind, base_url), timeout)
        self.url = base_url.rstrip("/") + "/api/v2/alerts"

    async def send(self, message: dict[str, Any]) -> None:
        await self.post_json(self.url, orjson.dumps([am_alert(message)]))
