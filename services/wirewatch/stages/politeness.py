"""Politeness of the fetch stage: a URL in, permission to request it (or an error) out.

One ``Politeness`` per worker holds, per host name, a concurrency limit and a token bucket
(``per_host_rate`` requests a second, ``per_host_burst`` back to back), plus a pause set by a
429/503's Retry-After or a robots.txt Crawl-delay; and, per origin, the parsed robots.txt.

    async with polite.slot(url): ...     waits for the host's turn, at most ``max_host_wait``
                                         seconds, else NotYet("host_busy", retry_after): not a
                                         failure, the runner tries again later without limit and
                                         without spending the link's tries (a host's break over
                                         ``MAX_TURN_WAIT`` is a plain TransientError); waits aside
                                         (``waiting.waiting``): a link queued for its host holds
                                         none of the stage's working slots
    polite.pause(url, seconds)           no request to that host before then (Retry-After)
    await polite.check_robots(url, client)
                                         PermanentError("robots_disallowed") if robots.txt says no;
                                         TransientError("robots_unavailable") if it cannot be read
    await polite.robots_txt(origin, client)
                                         the cached RobotsTxt of an origin (fetched when due)

robots.txt follows RFC 9309, parsed by protego (wildcards, ``$``, the longest match wins, Allow
over Disallow on a tie): 2xx is parsed, a 4xx (or no file) allows everything, a 5xx or a
network failure disallows everything for now (retried later), more than ``max_redirects``
redirects or a loop count as no file, and the first 500 KiB count. It is fetched with the one
guarded GET (``http_get``) through the caller's client: the address guard, hop limit, caps and
error reasons are those of every request; a failure keeps the GET's reason (``RobotsTxt.reason``).
One fetch per origin at a time, however many links for that origin arrive together. State is
bounded: idle hosts and old robots entries are evicted past ``max_hosts``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from protego import Protego

from ..errors import NotYet, PermanentError, StageError, TransientError
from ..settings import FetchSettings
from ..waiting import waiting
from .http_get import Limits, get

ROBOTS_MAX_BYTES = 512 * 1024
# A robots.txt that cannot be read disallows its origin; how long before we ask again.
ROBOTS_RETRY_SECONDS = 60.0
# Crawl-delay larger than this is treated as this: a hostile robots.txt must not park a worker.
MAX_CRAWL_DELAY = 60.0
# Waiting for a turn is "not yet" (NotYet: no try spent, no limit), as long as the turn is this near.
# A host that asks for a longer break (Retry-After: 86400) is down for us: its links spend their
# tries and are dead-lettered host_busy (replayable) rather than held for hours, each holding its
# partition's commit and a place among the links alive.
MAX_TURN_WAIT = 300.0


@dataclass
class _Host:
    sem: asyncio.Semaphore
    interval: float  # seconds per token
    burst: float
    tokens: float
    updated: float
    not_before: float = 0.0
    users: int = 0


# Every 4xx/5xx is an answer about robots.txt, not a failure of the GET.
_ROBOTS_ANSWERS = frozenset(range(400, 600))
# RFC 9309 2.3.1.2: too many redirects, or a loop, is as if there were no file.
_NO_FILE = frozenset({"too_many_redirects", "redirect_loop"})


@dataclass
class RobotsTxt:
    parser: Protego | None  # None: unreadable, disallow until expires
    expires: float
    detail: str = ""
    reason: str = ""  # the GET's reason when it failed (the same as any other GET's for that failure)
    loading: asyncio.Future[RobotsTxt] | None = field(default=None, repr=False)


def host_of(url: str | httpx.URL) -> str:
    return (httpx.URL(url) if isinstance(url, str) else url).host.lower()


def origin_of(url: str | httpx.URL) -> str:
    u = httpx.URL(url) if isinstance(url, str) else url
    default = {"http": 80, "https": 443}.get(u.scheme)
    port = f":{u.port}" if u.port not in (None, default) else ""
    return f"{u.scheme}://{u.host.lower()}{port}"


class Politeness:
    def __init__(
        self,
        settings: FetchSettings,
        *,
        max_hosts: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.max_hosts = max_hosts
        self.clock = clock
        self.sleep = sleep
        self._hosts: OrderedDict[str, _Host] = OrderedDict()
        self._robots: OrderedDict[str, RobotsTxt] = OrderedDict()

    # -- per-host turn -------------------------------------------------------------------------

    def _host(self, host: str) -> _Host:
        h = self._hosts.get(host)
        if h is None:
            s = self.settings
            h = _Host(
                asyncio.Semaphore(s.per_host_concurrency),
                1.0 / s.per_host_rate,
                float(s.per_host_burst),
                float(s.per_host_burst),
                self.clock(),
            )
            self._evict_hosts()
            self._hosts[host] = h
        else:
            self._hosts.move_to_end(host)
        return h

    def _evict_hosts(self) -> None:
        if len(self._hosts) < self.max_hosts:
            return
        now = self.clock()
        # First hosts whose state says nothing (full bucket, no pause): forgetting them changes
        # nothing. Then, if need be, the least recently used idle ones: memory stays bounded
        # whatever the spread of hosts, at the price of a fresh burst for a long-unseen host.
        for strict in (True, False):
            for name in list(self._hosts):
                if len(self._hosts) < self.max_hosts:
                    return
                h = self._hosts[name]
                if h.users == 0 and (not strict or (h.not_before <= now and self._refill(h, now) >= h.burst)):
                    del self._hosts[name]

    def _refill(self, h: _Host, now: float) -> float:
        h.tokens = min(h.burst, h.tokens + (now - h.updated) / h.interval)
        h.updated = now
        return h.tokens

    @asynccontextmanager
    async def slot(self, url: str | httpx.URL) -> AsyncIterator[None]:
        host = host_of(url)
        h = self._host(host)
        h.users += 1
        turn = False
        try:
            deadline = self.clock() + self.settings.max_host_wait
            self._check_pause(h, host, deadline)
            if not h.sem.locked():
                # A free turn is taken at once (acquire does not suspend): nothing to wait for, so
                # the message keeps its working slot; giving it away and taking it back on every
                # hop cost each GET a trip through the window for nothing.
                await h.sem.acquire()
                turn = True
            else:
                await self._wait_turn(h, host)
                turn = True
            await self._take_token(h, host, deadline)
            yield
        finally:
            if turn:
                h.sem.release()
            h.users -= 1

    async def _wait_turn(self, h: _Host, host: str) -> None:
        """Wait aside (no working slot held) for one of the host's turns, up to max_host_wait."""
        try:
            # Leaving waiting() waits for a working slot with the turn in hand, and a rebalance
            # may cancel the link right there: the turn is given back whatever happens after it
            # is taken, or the host loses it for good (all its turns, in time).
            acquired = False
            try:
                async with waiting(), asyncio.timeout(self.settings.max_host_wait):
                    await h.sem.acquire()
                    acquired = True
            except BaseException:
                if acquired:
                    h.sem.release()
                raise
        except TimeoutError:
            raise NotYet(
                "host_busy",
                f"{host}: no free slot within {self.settings.max_host_wait:g}s "
                f"({self.settings.per_host_concurrency} requests in flight at most)",
            ) from None

    def _check_pause(self, h: _Host, host: str, deadline: float) -> None:
        if h.not_before > deadline:
            wait = h.not_before - self.clock()
            error = NotYet if wait <= MAX_TURN_WAIT else TransientError  # see MAX_TURN_WAIT
            raise error(
                "host_busy", f"{host} asked us to wait {wait:.0f}s more (Retry-After or Crawl-delay)", retry_after=wait
            )

    async def _take_token(self, h: _Host, host: str, deadline: float) -> None:
        while True:
            now = self.clock()
            self._check_pause(h, host, deadline)
            wait = max(h.not_before - now, (1.0 - self._refill(h, now)) * h.interval)
            if wait <= 0:
                h.tokens -= 1.0
                return
            if now + wait > deadline:
                raise NotYet(
                    "host_busy",
                    f"{host}: rate limit of {1 / h.interval:g}/s leaves no turn within "
                    f"{self.settings.max_host_wait:g}s",
                    retry_after=wait,
                )
            async with waiting():
                await self.sleep(wait)

    def pause(self, url: str | httpx.URL, seconds: float) -> None:
        """The host asked for a break (Retry-After): no request to it before ``seconds`` from now."""
        h = self._host(host_of(url))
        h.not_before = max(h.not_before, self.clock() + max(0.0, seconds))

    def _crawl_delay(self, host: str, delay: float) -> None:
        h = self._host(host)
        h.interval = max(h.interval, min(delay, MAX_CRAWL_DELAY))
        # A host that wants one request every N seconds wants no burst either.
        h.burst = min(h.burst, 1.0)
        h.tokens = min(h.tokens, h.burst)

    # -- robots.txt ----------------------------------------------------------------------------

    async def check_robots(self, url: str | httpx.URL, client: httpx.AsyncClient) -> None:
        if not self.settings.robots:
            return
        u = httpx.URL(url) if isinstance(url, str) else url
        if u.path == "/robots.txt":
            return
        entry = await self.robots_txt(origin_of(u), client)
        if entry.parser is None:
            raise TransientError(
                "robots_unavailable",
                f"{origin_of(u)}/robots.txt: {entry.detail}",
                retry_after=max(0.0, entry.expires - self.clock()),
            )
        if not entry.parser.can_fetch(str(u), self.settings.user_agent):
            raise PermanentError("robots_disallowed", f"robots.txt of {origin_of(u)} disallows {u}")

    async def robots_txt(self, origin: str, client: httpx.AsyncClient) -> RobotsTxt:
        """The robots.txt of ``origin`` (scheme://host[:port]), from the cache or fetched now."""
        entry = self._robots.get(origin)
        if entry is not None and entry.loading is not None:
            async with waiting():  # another link of the origin is fetching robots.txt
                return await asyncio.shield(entry.loading)
        if entry is not None and entry.expires > self.clock():
            self._robots.move_to_end(origin)
            return entry
        future: asyncio.Future[RobotsTxt] = asyncio.get_running_loop().create_future()
        placeholder = RobotsTxt(None, 0.0, "being fetched", loading=future)
        self._robots[origin] = placeholder
        try:
            result = await self._load_robots(origin, client)
        except BaseException as e:
            # Cancelled or crashed: let the next caller try again rather than wait forever.
            self._robots.pop(origin, None)
            future.set_exception(e if isinstance(e, Exception) else TransientError("robots_unavailable", "cancelled"))
            future.exception()  # mark retrieved: nobody may be waiting
            raise
        self._robots[origin] = result
        self._robots.move_to_end(origin)
        while len(self._robots) > self.max_hosts:
            oldest = next(iter(self._robots))
            if self._robots[oldest].loading is not None:
                break
            del self._robots[oldest]
        future.set_result(result)
        return result

    async def _load_robots(self, origin: str, client: httpx.AsyncClient) -> RobotsTxt:
        now = self.clock()
        try:
            page = await get(
                origin + "/robots.txt",
                client,
                Limits.of(self.settings),
                self,
                robots=False,
                headers={"Accept": "text/plain,*/*;q=0.1"},
                accept=_ROBOTS_ANSWERS,
                keep_first=ROBOTS_MAX_BYTES,
            )
        except StageError as e:
            if e.reason in ("blocked_address", "host_busy"):
                raise  # the origin itself is refused, or busy: as for any of its URLs
            if e.reason in _NO_FILE:
                return self._allow_all(now, e.reason)
            return RobotsTxt(None, now + ROBOTS_RETRY_SECONDS, f"{e.reason}: {e.detail}", e.reason)
        status = page.status
        if 200 <= status < 300:
            parser = Protego.parse(page.body.decode("utf-8", errors="replace"))
            delay = parser.crawl_delay(self.settings.user_agent)
            if delay:
                self._crawl_delay(host_of(origin), float(delay))
            return RobotsTxt(parser, now + self.settings.robots_ttl)
        if 400 <= status < 500 and status != 429:
            return self._allow_all(now)
        return RobotsTxt(None, now + ROBOTS_RETRY_SECONDS, f"HTTP {status}", "http_status")

    def _allow_all(self, now: float, reason: str = "") -> RobotsTxt:
        return RobotsTxt(Protego.parse(""), now + self.settings.robots_ttl, reason=reason)
