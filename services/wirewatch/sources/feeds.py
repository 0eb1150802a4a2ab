"""RSS/Atom feed polling: feed bytes in, new links out.

`parse_feed` is the pure core (feedparser does the parsing: it copes with RSS 0.9x-2.0, Atom and
the malformed feeds real outlets publish). `FeedPoller` polls each configured feed on its interval
and hands links it has not seen before to a callback; a failing feed is counted and retried on the
next round, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import urljoin

import feedparser
import httpx

from ..errors import PermanentError
from ..metrics import Metrics
from ..settings import FeedSource
from .links import make_link

log = logging.getLogger(__name__)

SEEN_PER_FEED = 5000  # items remembered per feed: feeds list tens to a few hundred items


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    title: str | None
    guid: str


def parse_feed(body: bytes, base_url: str) -> list[FeedItem]:
    """Items of an RSS/Atom document, oldest first. PermanentError when it is not a feed at all."""
    parsed = feedparser.parse(body)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        raise PermanentError("not_a_feed", f"{base_url}: {parsed.get('bozo_exception') or 'no feed entries'}")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            continue
        url = urljoin(base_url, link.strip())
        items.append(FeedItem(url=url, title=entry.get("title"), guid=entry.get("id") or url))
    items.reverse()  # feeds list newest first; submit in publication order
    return items


class FeedPoller:
    """Polls feeds forever; `submit(link_dict)` is called for each new item."""

    def __init__(
        self,
        feeds: list[FeedSource],
        http: httpx.AsyncClient,
        submit: Callable[[dict], Awaitable[None]],
        metrics: Metrics,
    ) -> None:
        self.feeds = feeds
        self.http = http
        self.submit = submit
        self.metrics = metrics
        self._seen: dict[str, OrderedDict[str, None]] = {f.name: OrderedDict() for f in feeds}

    async def poll_once(self, feed: FeedSource) -> int:
        """Fetch one feed and submit its new items; returns how many were new."""
        try:
            resp = await self.http.get(feed.url, follow_redirects=True)
            resp.raise_for_status()
            items = parse_feed(resp.content, str(resp.url))
        except (httpx.HTTPError, PermanentError) as e:
            self.metrics.feed_polls.labels(outcome="error").inc()
            log.warning("feed %s: poll failed: %s", feed.name, e)
            return 0
        seen = self._seen[feed.name]
        new = 0
        for item in items:
            if item.guid in seen:
                continue
            seen[item.guid] = None
            if len(seen) > SEEN_PER_FEED:
                seen.popitem(last=False)
            await self.submit(make_link(item.url, f"feed:{feed.name}", item.title))
            new += 1
        self.metrics.feed_polls.labels(outcome="ok").inc()
        log.info("feed %s: %d items, %d new", feed.name, len(items), new)
        return new

    async def run(self) -> None:
        await asyncio.gather(*(self._loop(f) for f in self.feeds))

    async def _loop(self, feed: FeedSource) -> None:
        while True:
            await self.poll_once(feed)
            await asyncio.sleep(feed.interval)
