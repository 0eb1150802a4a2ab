"""Small pieces for tests that serve their own pages on loopback or fake the passing of time."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(routes: dict[str, Handler], hits: Counter | None = None) -> AsyncIterator[str]:
    """Serve GET `routes` on a free 127.0.0.1 port; yields the base URL. Every request's path is
    counted in `hits` when given, so tests can prove what was (not) fetched."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        if hits is not None:
            hits[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds
