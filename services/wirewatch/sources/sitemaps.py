"""Sitemaps as a source of links: sitemap bytes (XML or gzipped XML) in, article entries or child
sitemaps out. Pure.

Handles the three shapes publishers serve:

    <urlset> with <news:news>     a Google News sitemap: url, title, publication date
    <urlset> plain                url and <lastmod>
    <sitemapindex>                child sitemaps (often one per day, often .xml.gz)

Parsing is namespace-agnostic (publishers get the namespaces wrong) and safe: no entities, no
network, and gzip is inflated with a size cap so a small bomb cannot exhaust memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin

from lxml import etree

from ..errors import PermanentError
from ..timeutil import parse

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str
    title: str | None = None
    published: datetime | None = None  # news:publication_date, else lastmod


@dataclass(frozen=True, slots=True)
class Sitemap:
    kind: str  # "urlset" or "index"
    entries: list[SitemapEntry] = field(default_factory=list)  # for "urlset"
    children: list[SitemapEntry] = field(default_factory=list)  # for "index": url + lastmod


def inflate(body: bytes, max_bytes: int) -> bytes:
    """`body` itself, or its gzip content when it is gzipped; PermanentError past `max_bytes`."""
    if not body.startswith(GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as e:
        raise PermanentError("not_a_sitemap", f"corrupt gzip: {e}") from e
    if len(out) > max_bytes:
        raise PermanentError("too_large", f"gzipped sitemap inflates past {max_bytes} bytes")
    return out


def parse_date(value: str | None) -> datetime | None:
    """A W3C datetime (2026-11-24, 2026-11-24T08:15:04Z, ...+01:00) as aware UTC, or None."""
    return parse(value)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True, huge_tree=False)


def _local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(el: etree._Element, *path: str) -> str | None:
    """Text of the first descendant along local names `path` (namespace-agnostic)."""
    current = [el]
    for name in path:
        current = [c for parent in current for c in parent if _local(c) == name]
        if not current:
            return None
    text = current[0].text
    return text.strip() if text and text.strip() else None


def parse_sitemap(body: bytes, base_url: str, max_bytes: int = 50_000_000) -> Sitemap:
    """The entries (urlset) or child sitemaps (index) of a sitemap; PermanentError("not_a_sitemap")."""
    xml = inflate(body, max_bytes)
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as e:
        raise PermanentError("not_a_sitemap", f"{base_url}: {e}") from e
    if root is None:
        raise PermanentError("not_a_sitemap", f"{base_url}: empty document")
    kind = _local(root)
    if kind == "sitemapindex":
        children = []
        for el in root:
            if _local(el) != "sitemap":
                continue
            loc = _child_text(el, "loc")
            if loc:
                children.append(SitemapEntry(urljoin(base_url, loc), None, parse_date(_child_text(el, "lastmod"))))
        return Sitemap("index", children=children)
    if kind != "urlset":
        raise PermanentError("not_a_sitemap", f"{base_url}: root element is <{kind or '?'}>, not urlset/sitemapindex")
    entries = []
    for el in root:
        if _local(el) != "url":
            continue
        loc = _child_text(el, "loc")
        if not loc:
            continue
        published = parse_date(_child_text(el, "news", "publication_date")) or parse_date(_child_text(el, "lastmod"))
        entries.append(SitemapEntry(urljoin(base_url, loc), _child_text(el, "news", "title"), published))
    return Sitemap("urlset", entries=entries)


def recent(entries: list[SitemapEntry], now: datetime, max_age: float, limit: int = 1000) -> list[SitemapEntry]:
    """Entries worth submitting, oldest first: dated within `max_age`, or undated; at most `limit`.

    Undated entries are kept (the poller's seen set submits each once) but dated ones go first, so a
    huge undated archive sitemap cannot crowd out the day's news.
    """
    cutoff = now - timedelta(seconds=max_age)
    dated = sorted((e for e in entries if e.published and e.published >= cutoff), key=lambda e: e.published or cutoff)
    undated = [e for e in entries if e.published is None]
    keep = dated[-limit:]
    return keep + undated[: max(0, limit - len(keep))]


def children_to_read(index: Sitemap, now: datetime, max_age: float, limit: int) -> list[str]:
    """Child sitemaps of an index worth reading: modified within `max_age` or undated, newest first."""
    cutoff = now - timedelta(seconds=max_age)
    fresh = [c for c in index.children if c.published is None or c.published >= cutoff]
    fresh.sort(key=lambda c: c.published or now, reverse=True)
    return [c.url for c in fresh[:limit]]
