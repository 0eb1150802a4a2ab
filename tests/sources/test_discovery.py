"""sources.discovery (pure): the feeds a homepage advertises, best first."""

from wirewatch.sources.discovery import discover_feeds

HOME = b"""<!doctype html><html><head>
<title>Tidewater Post</title>
<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" title="Top stories" href="/rss/top.xml">
<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://tidewater.example/atom.xml">
<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
<link rel="stylesheet" href="/site.css">
</head><body><a href="/rss/top.xml">RSS</a><a href="/about">About</a></body></html>"""


def test_advertised_feeds_first_comments_last_deduplicated():
    assert discover_feeds(HOME, "https://tidewater.example/") == [
        "https://tidewater.example/rss/top.xml",
        "https://tidewater.example/atom.xml",
        "https://tidewater.example/comments/feed/",
    ]


def test_base_href_is_honoured():
    page = b'<html><head><base href="https://cdn.tidewater.example/en/"><link rel="alternate" type="application/rss+xml" href="feed.xml"></head></html>'
    assert discover_feeds(page, "https://tidewater.example/") == ["https://cdn.tidewater.example/en/feed.xml"]


def test_anchor_fallback_when_nothing_is_advertised():
    page = b'<html><body><a href="/news/rss">News RSS</a><a href="/contact">x</a><a href="javascript:feed()">no</a></body></html>'
    assert discover_feeds(page, "https://quay.example/") == ["https://quay.example/news/rss"]


def test_nothing_to_find():
    assert discover_feeds(b"", "https://a.example/") == []
    assert discover_feeds(b"<html><body>plain</body></html>", "https://a.example/") == []
    assert discover_feeds("<<<not html at all", "https://a.example/") == []
