"""sources.sitemaps (pure): news sitemaps, plain sitemaps, indexes, gzip, hostile XML."""

import gzip
from datetime import UTC, datetime

import pytest

from wirewatch.errors import PermanentError
from wirewatch.sources.sitemaps import children_to_read, inflate, parse_date, parse_sitemap, recent

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://tidewater.example/2026/11/24/ferry-capsizes</loc>
    <news:news><news:publication><news:name>Tidewater Post</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-24T09:30:00+01:00</news:publication_date>
      <news:title>Ferry capsizes off the northern cape</news:title></news:news></url>
  <url><loc>/2026/11/23/council-vote</loc>
    <news:news><news:publication_date>2026-11-23T18:00:00Z</news:publication_date>
      <news:title>Council vote delayed</news:title></news:news></url>
  <url><loc>https://tidewater.example/2026/10/01/archive-piece</loc><lastmod>2026-10-01</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://tidewater.example/sitemaps/2026-11-24.xml.gz</loc><lastmod>2026-11-24T11:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://tidewater.example/sitemaps/2026-11-23.xml.gz</loc><lastmod>2026-11-23T23:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://tidewater.example/sitemaps/2025-01.xml.gz</loc><lastmod>2025-01-31</lastmod></sitemap>
  <sitemap><loc>https://tidewater.example/sitemaps/sections.xml</loc></sitemap>
</sitemapindex>"""


def test_news_sitemap_entries_with_titles_and_dates():
    sm = parse_sitemap(NEWS, "https://tidewater.example/news-sitemap.xml")
    assert sm.kind == "urlset" and len(sm.entries) == 3
    ferry, council, archive = sm.entries
    assert ferry.title == "Ferry capsizes off the northern cape"
    assert ferry.published == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert council.url == "https://tidewater.example/2026/11/23/council-vote"
    assert archive.title is None and archive.published == datetime(2026, 10, 1, tzinfo=UTC)


def test_recent_keeps_the_last_days_oldest_first():
    sm = parse_sitemap(NEWS, "https://tidewater.example/news-sitemap.xml")
    kept = recent(sm.entries, NOW, max_age=2 * 86400)
    assert [e.url.rsplit("/", 1)[1] for e in kept] == ["council-vote", "ferry-capsizes"]
    assert len(recent(sm.entries, NOW, max_age=2 * 86400, limit=1)) == 1


def test_undated_entries_are_kept_after_dated_ones():
    body = b"<urlset><url><loc>https://a.example/x</loc></url><url><loc>https://a.example/y</loc><lastmod>2026-11-24</lastmod></url></urlset>"
    kept = recent(parse_sitemap(body, "https://a.example/").entries, NOW, 86400)
    assert [e.url for e in kept] == ["https://a.example/y", "https://a.example/x"]


def test_index_lists_fresh_children_newest_first():
    sm = parse_sitemap(INDEX, "https://tidewater.example/sitemap-index.xml")
    assert sm.kind == "index" and len(sm.children) == 4
    chosen = children_to_read(sm, NOW, max_age=2 * 86400, limit=10)
    assert chosen == [
        "https://tidewater.example/sitemaps/sections.xml",  # undated: could hold anything
        "https://tidewater.example/sitemaps/2026-11-24.xml.gz",
        "https://tidewater.example/sitemaps/2026-11-23.xml.gz",
    ]
    assert len(children_to_read(sm, NOW, 2 * 86400, limit=1)) == 1


def test_gzipped_sitemap_is_inflated_and_capped():
    packed = gzip.compress(NEWS)
    assert parse_sitemap(packed, "https://tidewater.example/s.xml.gz").entries[0].title.startswith("Ferry")
    bomb = gzip.compress(b"<urlset>" + b" " * 2_000_000 + b"</urlset>")
    assert len(bomb) < 10_000
    with pytest.raises(PermanentError) as e:
        inflate(bomb, max_bytes=1_000_000)
    assert e.value.reason == "too_large"
    with pytest.raises(PermanentError) as e:
        inflate(b"\x1f\x8bnot really gzip", 1000)
    assert e.value.reason == "not_a_sitemap"


def test_entities_are_not_expanded():
    body = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <urlset><url><loc>https://a.example/&x;</loc></url></urlset>"""
    sm = parse_sitemap(body, "https://a.example/")
    assert all("root:" not in e.url for e in sm.entries)


@pytest.mark.parametrize("body", [b"", b"<html><body>hi</body></html>", b"\x00\x01garbage", b"<rss version='2.0'/>"])
def test_not_a_sitemap(body):
    with pytest.raises(PermanentError) as e:
        parse_sitemap(body, "https://a.example/sitemap.xml")
    assert e.value.reason == "not_a_sitemap"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026-11-24T08:15:04Z", datetime(2026, 11, 24, 8, 15, 4, tzinfo=UTC)),
        ("2026-11-24T10:15:04+02:00", datetime(2026, 11, 24, 8, 15, 4, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected
