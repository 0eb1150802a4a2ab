"""RSS/Atom feed parsing: feed bytes in, items (and the feed's own polling hint) out. Pure.

feedparser does the parsing: it copes with RSS 0.9x-2.0, Atom and the malformed feeds real
outlets publish. `parse_feed_document` also reads RSS ``<ttl>`` (minutes), which
sources/schedule.py honours. Polling, conditional GET and state live in sources/poller.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import feedparser

from ..errors import PermanentError


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    title: str | None
    guid: str


@dataclass(frozen=True, slots=True)
class FeedDocument:
    items: list[FeedItem]  # oldest first
    ttl: float | None  # seconds the publisher asks us to wait between polls (RSS <ttl>), if any


def parse_feed_document(body: bytes, base_url: str) -> FeedDocument:
    """Items of an RSS/Atom document, oldest first, and its TTL. PermanentError("not_a_feed")."""
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
    ttl = None
    raw_ttl = str(parsed.feed.get("ttl") or "").strip()
    if raw_ttl.isdigit():
        ttl = int(raw_ttl) * 60.0
    return FeedDocument(items=items, ttl=ttl)


def parse_feed(body: bytes, base_url: str) -> list[FeedItem]:
    """Items of an RSS/Atom document, oldest first. PermanentError when it is not a feed at all."""
    return parse_feed_document(body, base_url).items
