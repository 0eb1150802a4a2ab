"""Feed parsing (pure) and the link messages it produces."""

import pytest

from wirewatch import contract
from wirewatch.errors import InvalidMessage, PermanentError
from wirewatch.sources.feeds import parse_feed
from wirewatch.sources.links import make_link, source_kind

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Gazette</title>
<item><title>Newest</title><link>https://hg.example/s/2</link><guid>g2</guid></item>
<item><title>Older</title><link>/s/1</link><guid>g1</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>One</title><link href="https://hg.example/a/1"/><id>urn:1</id></entry></feed>"""


def test_rss_items_oldest_first_with_relative_links_resolved():
    items = parse_feed(RSS, "https://hg.example/feed.xml")
    assert [i.url for i in items] == ["https://hg.example/s/1", "https://hg.example/s/2"]
    assert [i.guid for i in items] == ["g1", "g2"]


def test_atom():
    (item,) = parse_feed(ATOM, "https://hg.example/atom.xml")
    assert item.url == "https://hg.example/a/1" and item.title == "One" and item.guid == "urn:1"


def test_not_a_feed_is_a_permanent_error():
    with pytest.raises(PermanentError) as e:
        parse_feed(b"<html><body>hello</body></html>", "https://hg.example/")
    assert e.value.reason == "not_a_feed"


def test_links_validate_and_carry_an_id():
    link = make_link("  arab.news/jtxzg ", "feed:arab-news", "A title")
    contract.validate("link", link)
    assert link["url"] == "arab.news/jtxzg" and len(link["link_id"]) == 32
    assert source_kind(link["source"]) == "feed"
    with pytest.raises(InvalidMessage):
        make_link("   ", "cli")
