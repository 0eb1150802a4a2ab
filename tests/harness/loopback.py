"""Small pieces for tests that serve their own pages on loopback or fake the passing of time."""

from __future__ import annotations

import random
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _below_ephemeral() -> range:
    """Ports below the kernel's ephemeral range (ip_local_port_range), or none where it is unknown."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return range(0)
    return range(max(1024, low - 12000), low)


_PORTS = _below_ephemeral()
_PICK = random.Random()  # its own generator: a test that seeds `random` must not make picks repeat


def free_port() -> int:
    """A free 127.0.0.1 TCP port, for a server that must be told its port before it starts (a
    worker process, PostgreSQL, Alertmanager, an SMTP controller). A server that can bind port 0
    and report the port it got should do that instead: this port is free only when it is picked.

    It is drawn at random from below the ephemeral range, where neither another process binding
    port 0 nor an outgoing connection's source port can land in the moment before the server binds
    it (the race a port from bind-to-0 had); only another caller of this picking the same port then
    could. A server that can retry on a taken port (PostgresServer, Alertmanager) still does.
    """
    for _ in range(100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", _PICK.choice(_PORTS) if _PORTS else 0))
            except OSError:
                continue  # in use, or lingering (TIME_WAIT): another
            return int(sock.getsockname()[1])
    raise OSError("no free loopback port below the ephemeral range after 100 tries")


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
