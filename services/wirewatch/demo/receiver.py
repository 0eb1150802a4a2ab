"""A webhook alert receiver on loopback, for the demo and the tests: records every POST it gets.

It can be told to fail its first N requests with a status (to show retries), and it
deduplicates by the Idempotency-Key header the way a careful receiver would, while still
recording every delivery attempt so tests can prove nothing was sent twice.
"""

from __future__ import annotations

import orjson
from aiohttp import web


class AlertReceiver:
    def __init__(self, fail_first: int = 0, fail_status: int = 503) -> None:
        self.received: list[dict] = []          # every accepted POST body, in order
        self.attempts = 0                      # every request, failed ones included
        self.headers: list[dict[str, str]] = []
        self.fail_first = fail_first
        self.fail_status = fail_status
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return web.Response(status=self.fail_status, text="receiver failing on purpose")
        body = await request.read()
        try:
            alert = orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400, text="not JSON")
        self.received.append(alert)
        self.headers.append(dict(request.headers))
        return web.json_response({"ok": True})

    def keys(self) -> list[str]:
        return [h.get("Idempotency-Key", "") for h in self.headers]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/alerts", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # the port the OS picked
        self.url = f"http://{host}:{sock.getsockname()[1]}/alerts"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
