"""An alert receiver on loopback, for the demo and the tests: records every POST it gets.

It stands in for any HTTP channel's far end (a webhook receiver, Slack's incoming webhook, an
apprise json:// endpoint): it accepts a POST on any path. It can be told to fail its first N
requests with a status (to show retries), or to answer every request with one status (a
receiver that will never accept: `always_status=400`). It deduplicates by the Idempotency-Key
header the way a careful receiver would (``by_key``), while still recording every accepted
delivery (``received``) so tests can prove nothing was sent twice.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from ..sinks.webhook import verify


class AlertReceiver:
    def __init__(
        self,
        fail_first: int = 0,
        fail_status: int = 503,
        always_status: int | None = None,
        answer: str = "receiver failing on purpose",
    ) -> None:
        self.received: list = []  # every accepted POST body (decoded JSON), in order
        self.raw: list[bytes] = []  # the same bodies as bytes, for signature checks
        self.attempts = 0  # every request, failed ones included
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.by_key: dict[str, object] = {}  # Idempotency-Key -> first body with that key
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.always_status = always_status
        self.answer = answer
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.base_url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.always_status is not None:
            return web.Response(status=self.always_status, text=self.answer)
        if self.attempts <= self.fail_first:
            return web.Response(status=self.fail_status, text=self.answer)
        body = await request.read()
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400, text="not JSON")
        headers = dict(request.headers)
        self.received.append(message)
        self.raw.append(body)
        self.headers.append(headers)
        self.paths.append(request.path)
        key = headers.get("Idempotency-Key")
        if key:
            self.by_key.setdefault(key, message)
        return web.json_response({"ok": True})

    def keys(self) -> list[str]:
        return [h.get("Idempotency-Key", "") for h in self.headers]

    def duplicates(self) -> list[str]:
        """Idempotency keys that arrived more than once (a careful receiver would drop the rest)."""
        keys = self.keys()
        return sorted({k for k in keys if keys.count(k) > 1})

    def signatures_valid(self, secret: bytes) -> bool:
        return all(verify(secret, body, h.get("X-Wirewatch-Signature")) for body, h in zip(self.raw, self.headers))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        port = self._runner.addresses[0][1]  # the port the OS picked
        self.base_url = f"http://{host}:{port}"
        self.url = self.base_url + "/alerts"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
