"""Apprise channel: an alert or notice in -> one notification through the apprise library.

apprise (PyPI) speaks to many services (ntfy, Telegram, Matrix, Teams, Discord, Pushover, generic
json:// and form:// endpoints, ...) from one URL each; it covers the long tail of channels we do
not write ourselves. One channel per URL, so each has its own ledger entry, deadline and metrics.
The title is ``render.subject``, the body the plain-text rendering.

apprise reports success or failure, not why: every failure is treated as ``TransientError``
(the alert waits, parked, and is tried until delivered: an apprise target that is wrong for good
shows as a failing channel, not as dead letters). A URL apprise
does not understand is a configuration error at start.
"""

from __future__ import annotations

from typing import Any

import apprise
from pydantic import SecretStr

from ..errors import ConfigError, TransientError
from .render import render, subject
from .webhook import target_of


class AppriseChannel:
    kind = "apprise"

    def __init__(self, url: SecretStr | str, timeout: float = 10.0) -> None:
        self._url = url.get_secret_value() if isinstance(url, SecretStr) else url
        self._timeout = timeout
        self._apprise: apprise.Apprise | None = None
        self.target = target_of(self.kind, self._url)

    async def start(self) -> None:
        if self._apprise is not None:
            return
        a = apprise.Apprise()
        if not a.add(self._url):
            scheme = self._url.partition("://")[0] or "?"
            raise ConfigError(f"{self.target}: apprise does not understand this URL (scheme {scheme!r})")
        self._apprise = a

    async def close(self) -> None:
        if self._apprise is not None:
            self._apprise.clear()
            self._apprise = None

    async def send(self, message: dict[str, Any]) -> None:
        assert self._apprise is not None, "channel not started"
        notify_type = (
            apprise.NotifyType.FAILURE if message.get("severity") == "critical" else apprise.NotifyType.WARNING
        )
        try:
            result = await self._apprise.async_notify(
                body=render(message, "text"),
                title=subject(message),
                notify_type=notify_type,
                body_format=apprise.NotifyFormat.TEXT,
                timeout=self._timeout,
            )
        except Exception as e:
            raise TransientError("receiver_unreachable", f"{self.target}: {type(e).__name__}: {e}") from e
        if not result:
            status = getattr(getattr(result, "status", None), "name", "FAILURE").lower()
            reason = "receiver_timeout" if status == "timeout" else "receiver_error"
            raise TransientError(reason, f"{self.target}: apprise reported {status}")
