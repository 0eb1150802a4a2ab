"""Slack channel: an alert or notice in -> one incoming-webhook message out.

The body is Slack's incoming-webhook format: ``text`` (the plain headline, shown in
notifications and by clients without blocks) and ``blocks`` (a mrkdwn section rendered by
``render`` with the figures, evidence, places and links, plus a context line naming the rule and
the alert id). Slack answers 200 ``ok``; 4xx (``invalid_payload``, ``no_service``,
``channel_is_archived``) never succeeds and is dead-lettered with the answer; 429/5xx are retried.
The webhook URL holds a token, so it is a secret and never appears in logs or the ledger.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import SecretStr

from . import http_errors
from .render import describe, render, sections
from .webhook import target_of

SECTION_LIMIT = 3000  # Slack refuses a section text longer than this


def slack_payload(message: dict[str, Any]) -> dict[str, Any]:
    body = render(message, "slack").strip()
    if len(body) > SECTION_LIMIT:
        body = body[: SECTION_LIMIT - 1] + "…"
    return {
        "text": describe(message).headline[:300],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": sections(message, "slack")["footer"]}]},
        ],
        "unfurl_links": False,
    }


class SlackChannel(http_errors.JsonChannel):
    kind = "slack"

    def __init__(self, url: SecretStr | str, timeout: float = 10.0) -> None:
        self._url = url.get_secret_value() if isinstance(url, SecretStr) else url
        super().__init__(target_of(self.kind, self._url), timeout)

    async def send(self, message: dict[str, Any]) -> None:
        await self.post_json(self._url, orjson.dumps(slack_payload(message)))
