"""The read API and the story board on the service's web server (the faust app's aiohttp).

    GET /                       the story board (web/index.html; its script and style under /board/)
    GET /api/stories            story cards, filtered, latest activity first, cursor-paged
    GET /api/stories/{id}       one story: its articles, evidence sentences, toll history
    GET /api/articles           full-text search of stored articles, newest first
    GET /api/alerts             alerts: what was sent where, delivery status
    GET /api/events             server-sent events: a `story` event with the card of each changed story

Every /api/ route needs ``Authorization: Bearer <read_token>`` (or ``?token=``, for EventSource and
links) when the read_token setting is set; without it only loopback clients are answered. Bad
parameters are 400 with the reason; storage unreachable is 503. The board page itself holds no
data and is served to anyone who reaches the port.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time
from importlib import resources
from typing import Any

import faust
import orjson
from aiohttp import web as aioweb

from wirewatch.errors import BadRequest, TransientError, WirewatchError

from . import params
from .events import CLOSED, RELOAD, StoryEvents
from .queries import ReadStore

log = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep an idle stream open
_ASSETS = {"board.js": "text/javascript", "board.css": "text/css", "index.html": "text/html"}


def authorised(token: str | None, header: str | None, query_token: str | None, remote: str | None) -> str | None:
    """None when the request may read; else why not (answered 401)."""
    if token:
        given = (header or "").removeprefix("Bearer ").strip() if (header or "").startswith("Bearer ") else query_token
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return "a valid read token is required (Authorization: Bearer ..., or ?token=)"
    try:
        if remote and ipaddress.ip_address(remote.split("%")[0]).is_loopback:
            return None
    except ValueError:
        pass
    return "reads are open to loopback clients only; set WIREWATCH_READ_TOKEN to serve others"


def _asset(name: str) -> bytes:
    return resources.files("wirewatch.web").joinpath(name).read_bytes()


class ReadApi:
    """What the routes share: the read store (opened once storage is ready), the event hub, metrics."""

    def __init__(self, settings: Any, rt: Any) -> None:
        self.settings = settings
        self.rt = rt
        self.store = ReadStore(settings.resolved_storage_url)
        self.events = StoryEvents(self.store)
        self._started = False
        self._start_lock = asyncio.Lock()

    @property
    def token(self) -> str | None:
        t = self.settings.read_token
        return t.get_secret_value() if t is not None else None

    async def ready(self) -> None:
        if self._started:
            return
        async with self._start_lock:
            if not self._started:
                try:
                    await asyncio.wait_for(self.rt.ready.wait(), 10)
                except TimeoutError:
                    raise TransientError("storage_unavailable", "storage is not ready yet") from None
                await self.store.start()
                # The evidence highlighter reads numbers with the lexicons, loading since the
                # runtime's start (Runtime.lexicons); a request that comes sooner waits for the rest
                # of it, shielded, so a client that goes away does not cancel the load for the others.
                await asyncio.shield(self.rt.lexicons())
                self._started = True

    async def close(self) -> None:
        await self.events.close()
        await self.store.close()

    async def answer(self, view: Any, request: Any, route: str, work) -> Any:
        """Authorise, run `work()` (a coroutine giving JSON), count and time it; errors -> 400/503."""
        started = time.perf_counter()
        status = 200
        try:
            denied = authorised(
                self.token, request.headers.get("Authorization"), request.query.get("token"), request.remote
            )
            if denied:
                status = 401
                return view.json({"error": "unauthorised", "detail": denied}, status=401)
            await self.ready()
            body = await work()
            if body is None:
                status = 404
                return view.json({"error": "not_found"}, status=404)
            return view.bytes(orjson.dumps(body), content_type="application/json")
        except BadRequest as e:
            status = 400
            return view.json({"error": e.reason, "detail": e.detail}, status=400)
        except WirewatchError as e:
            status = 503
            log.warning("read API %s: %s", route, e)
            return view.json({"error": getattr(e, "reason", "unavailable"), "detail": str(e)}, status=503)
        finally:
            self.rt.metrics.api_requests.labels(route=route, status=f"{status // 100}xx").inc()
            self.rt.metrics.api_latency.labels(route=route).observe(time.perf_counter() - started)

    async def stream(self, view: Any, request: Any) -> Any:
        denied = authorised(
            self.token, request.headers.get("Authorization"), request.query.get("token"), request.remote
        )
        if denied:
            self.rt.metrics.api_requests.labels(route="events", status="4xx").inc()
            return view.json({"error": "unauthorised", "detail": denied}, status=401)
        try:
            await self.ready()
        except WirewatchError as e:
            return view.json({"error": "storage_unavailable", "detail": str(e)}, status=503)
        self.rt.metrics.api_requests.labels(route="events", status="2xx").inc()
        response = aioweb.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        queue = self.events.subscribe()
        self.rt.metrics.api_event_streams.inc()
        try:
            await response.write(b"retry: 2000\n\n")
            while not self.events.closed.is_set():
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if item is CLOSED:
                    break
                event = b"reload" if item is RELOAD else b"story"
                await response.write(b"event: " + event + b"\ndata: " + orjson.dumps(item) + b"\n\n")
        except (ConnectionError, asyncio.CancelledError, RuntimeError):
            pass  # the client went away, or the server is stopping
        finally:
            self.events.unsubscribe(queue)
            self.rt.metrics.api_event_streams.dec()
        return response


def register(app: faust.App, settings: Any, rt: Any) -> ReadApi:
    """Add the read API, the event stream and the board to `app`'s web server."""
    api = ReadApi(settings, rt)

    @app.page("/")
    async def board_page(self, request):
        return self.bytes(_asset("index.html"), content_type="text/html")

    @app.page("/board/{name}")
    async def board_asset(self, request, name):
        if name not in _ASSETS or name == "index.html":
            return self.json({"error": "not_found"}, status=404)
        return self.bytes(_asset(name), content_type=_ASSETS[name])

    @app.page("/api/stories")
    async def stories_page(self, request):
        return await api.answer(
            self, request, "stories", lambda: api.store.stories(params.parse(request.query, params.STORY_PARAMS, 2))
        )

    @app.page("/api/stories/{story_id}")
    async def story_page(self, request, story_id):
        async def work():
            params.parse(request.query, (), 2)  # only token: anything else is a mistake worth a 400
            return await api.store.story(story_id)

        return await api.answer(self, request, "story", work)

    @app.page("/api/articles")
    async def articles_page(self, request):
        return await api.answer(
            self, request, "articles", lambda: api.store.articles(params.parse(request.query, params.ARTICLE_PARAMS, 2))
        )

    @app.page("/api/alerts")
    async def alerts_page(self, request):
        return await api.answer(
            self, request, "alerts", lambda: api.store.alerts(params.parse(request.query, params.ALERT_PARAMS, 2))
        )

    @app.page("/api/events")
    async def events_page(self, request):
        return await api.stream(self, request)

    @app.service
    class ReadApiService(faust.Service):  # closes the read connections and streams
        async def on_stop(self) -> None:
            await api.close()

    return api
