"""Alert channels: the one small protocol every channel follows, and building them from settings.

    Channel.kind    low-cardinality name (webhook, slack, email, alertmanager, apprise): a metric label
    Channel.target  stable per receiver, free of secrets: the ledger key and the name in logs
    start()         open clients; a bad configuration raises here, at boot
    send(message)   deliver one alert or notice; raises only TransientError (the alert waits and
                    is tried again until delivered) or PermanentError (dead-letter with the answer)
    close()         release clients; idempotent

How hard a channel is tried, and what happens when it keeps failing, is the alert agent's
business (``sinks/delivery.py``, the alert sink), the same for every channel.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..settings import Settings, reveal


@runtime_checkable
class Channel(Protocol):
    kind: str
    target: str

    async def start(self) -> None: ...

    async def send(self, message: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


def build_channels(settings: Settings) -> list[Channel]:
    """Every channel the settings configure, in a stable order (webhooks first)."""
    from .alertmanager import AlertmanagerChannel
    from .apprise_channel import AppriseChannel
    from .mail import EmailChannel
    from .slack import SlackChannel
    from .webhook import WebhookChannel

    c = settings.channels
    out: list[Channel] = [
        WebhookChannel(reveal(url), settings.webhook_secret, c.timeout) for url in settings.webhook_urls
    ]
    out += [SlackChannel(url, c.timeout) for url in c.slack_webhook_urls]
    out += [AlertmanagerChannel(reveal(url), c.timeout) for url in c.alertmanager_urls]
    if c.smtp.host and c.smtp.to:
        out.append(EmailChannel(c.smtp))
    out += [AppriseChannel(url, c.timeout) for url in c.apprise_urls]
    return out
