"""Feed autodiscovery: a homepage's HTML in, the URLs of the feeds it advertises out, best first. Pure.

Sites announce their feeds with ``<link rel="alternate" type="application/rss+xml" href=...>`` in
the head. Those come first (site-wide feeds before comment feeds); anchors that look like feed
links (``/rss``, ``/feed``, ``.rss``, ``atom.xml``) are a fallback for sites that only link them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_ANCHOR = re.compile(r"(^|/)(rss|feed|feeds|atom)(\.xml)?/?$|\.(rss|atom)$|(rss|atom|feed)\.xml$", re.IGNORECASE)
_COMMENTS = re.compile(r"comment", re.IGNORECASE)


def discover_feeds(html: bytes | str, base_url: str) -> list[str]:
    """Absolute http(s) feed URLs advertised by the page, deduplicated, best first."""
    if not html or not html.strip():
        return []
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base = base_url
    for el in doc.iter("base"):
        if href := el.get("href"):
            base = urljoin(base_url, href.strip())
            break

    advertised: list[tuple[bool, str]] = []
    for el in doc.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        kind = (el.get("type") or "").lower().split(";")[0].strip()
        href = (el.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href:
            is_comments = bool(_COMMENTS.search(href) or _COMMENTS.search(el.get("title") or ""))
            advertised.append((is_comments, urljoin(base, href)))
    # sorted() is stable: document order within each group.
    candidates = [url for _, url in sorted(advertised, key=lambda pair: pair[0])]
    for el in doc.iter("a"):
        href = (el.get("href") or "").strip()
        if href and _ANCHOR.search(urlsplit(href).path or ""):
            candidates.append(urljoin(base, href))

    seen: set[str] = set()
    out = []
    for url in candidates:
        if urlsplit(url).scheme in ("http", "https") and url not in seen:
            seen.add(url)
            out.append(url)
    return out
