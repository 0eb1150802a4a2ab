"""Tests for the offline demo news site (wirewatch.demo.site).

They check the site behaves like the real thing the pipeline will meet:
valid feeds pointing at short links, real redirect chains, pages whose main
text trafilatura isolates from the boilerplate, and a manifest that matches
what is actually served.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
import trafilatura
from lxml import html as lxml_html

try:
    from wirewatch.demo.site import SITE_NAME, UI, DemoSite
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services"))
    from wirewatch.demo.site import SITE_NAME, UI, DemoSite
from wirewatch.demo.pages.catalog import ITEMS

KEYS = [i.key for i in ITEMS]
ARTICLE_KEYS = [i.key for i in ITEMS if i.article is not None]
CLEAN_KEYS = [i.key for i in ITEMS if i.kind in ("news", "not_article")]

# Anything a casualty detector might key on. "body" is left out because it
# is an HTML tag and a class name.
CASUALTY_WORDS = re.compile(
    r"\b(kill\w*|dead\w*|death\w*|die[sd]?|dying|wound\w*|injur\w*|casualt\w*|"
    r"fatal\w*|victim\w*|tolls?|hurt\w*|shot|shoot\w*|blast\w*|explo\w*|attack\w*|"
    r"bomb\w*|massacre\w*|tué\w*|blessé\w*|morts?|décès|victime\w*)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def site():
    with DemoSite() as s:
        yield s


@pytest.fixture(scope="module")
def manifest(site):
    return {m["key"]: m for m in site.manifest()}


@pytest.fixture(scope="module")
def client():
    with httpx.Client(follow_redirects=True, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def pages(site, manifest, client):
    """Final response of every short link, fetched once."""
    return {key: client.get(m["short_url"]) for key, m in manifest.items()}


def _extract(text: str, url: str, **kw) -> str:
    return trafilatura.extract(text, url=url, include_comments=False, **kw) or ""


def _boilerplate(lang: str) -> list[str]:
    ui = UI[lang]
    return [
        ui["cookie"],
        ui["cookie_accept"],
        ui["cookie_manage"],
        ui["search"],
        ui["subscribe"],
        ui["advert"],
        *ui["ads"],
        ui["share"],
        ui["copy_link"],
        ui["related"],
        ui["comment_prompt"],
        ui["most_read"],
        ui["newsletter"],
        ui["copyright"],
        *(label for label, _ in ui["footer"] if len(label) > 8),
        SITE_NAME,
    ]


# -- lifecycle -----------------------------------------------------------------


def test_base_url_is_loopback_with_free_port(site):
    parts = urlsplit(site.base_url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
    assert parts.port and parts.port > 0
    assert site.base_url == site.start()  # start() is idempotent


def test_stop_then_restart_keeps_content_and_follows_new_port():
    s = DemoSite()
    first = s.start()
    guids = [m["guid"] for m in s.manifest()]
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = s.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(first + "/robots.txt")
    with DemoSite() as again:
        assert [m["guid"] for m in again.manifest()] == guids
        assert all(m["short_url"].startswith(again.base_url) for m in again.manifest())
        assert httpx.get(again.base_url + "/robots.txt").status_code == 200


def test_async_context_manager():
    async def run() -> int:
        async with DemoSite() as s, httpx.AsyncClient(follow_redirects=True) as c:
            r = await c.get(s.manifest()[0]["short_url"])
            return r.status_code

    assert asyncio.run(run()) == 200


def test_request_log(site, client):
    site.clear_requests()
    client.get(site.base_url + "/robots.txt")
    assert ("GET", "/robots.txt", 200) in site.requests


# -- feeds ---------------------------------------------------------------------


def test_robots_allows_everything(site, client):
    r = client.get(site.base_url + "/robots.txt")
    assert r.status_code == 200
    assert "Disallow: /" not in r.text and "Allow: /" in r.text


@pytest.mark.parametrize("path,version", [("/feed.xml", "rss20"), ("/atom.xml", "atom10")])
def test_feed_lists_every_item_by_short_link(site, manifest, client, path, version):
    r = client.get(site.base_url + path)
    assert r.status_code == 200 and "xml" in r.headers["content-type"]
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    assert len(feed.entries) == len(manifest) >= 8
    by_link = {e.link: e for e in feed.entries}
    for m in manifest.values():
        entry = by_link[m["short_url"]]
        assert entry.title == m["title"]
        assert entry.id == m["guid"]
        assert entry.published_parsed is not None


def test_feed_is_newest_first(site, client):
    feed = feedparser.parse(client.get(site.base_url + "/feed.xml").content)
    stamps = [e.published_parsed for e in feed.entries]
    assert stamps == sorted(stamps, reverse=True)


def test_content_set(manifest):
    kinds = [m["kind"] for m in manifest.values()]
    assert kinds.count("casualty") == 2
    assert kinds.count("casualty_update") == 1
    assert kinds.count("news") >= 3
    assert {"non_html", "dead", "not_article"} <= set(kinds)
    casualty = [m for m in manifest.values() if m["kind"] == "casualty"]
    assert all(isinstance(m["expect"]["killed"], int) for m in casualty)
    for m in manifest.values():
        if m["kind"] not in ("casualty", "casualty_update"):
            assert m["expect"] == {"killed": None, "injured": None}


def test_update_raises_toll_of_earlier_report(manifest):
    update, original = manifest["kumasi_update"], manifest["kumasi"]
    assert update["expect"]["killed"] > original["expect"]["killed"]
    assert update["expect"]["injured"] > original["expect"]["injured"]
    assert "Kumasi" in update["first_sentence"] and "Kumasi" in original["first_sentence"]


# -- redirects -----------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_short_link_resolves_as_described(pages, manifest, key):
    m, r = manifest[key], pages[key]
    assert r.status_code == m["status"]
    assert str(r.url) == m["final_url"]
    assert r.headers["content-type"] == m["content_type"]
    assert [h.status_code for h in r.history] == m["redirects"]
    assert all(h.headers.get("location") for h in r.history)


def test_redirect_variety(site, manifest):
    statuses: set[int] = set()
    relative = absolute = 0
    with httpx.Client(follow_redirects=False) as c:
        for m in manifest.values():
            url, hops = m["short_url"], 0
            while True:
                r = c.get(url)
                if not r.is_redirect:
                    break
                hops += 1
                statuses.add(r.status_code)
                location = r.headers["location"]
                if location.startswith("http://"):
                    absolute += 1
                    assert location.startswith(site.base_url)
                else:
                    relative += 1
                    assert location.startswith("/")
                url = str(r.url.join(location))
            assert hops == m["hops"]
    assert statuses == {301, 302, 303, 307, 308}
    assert relative and absolute
    assert max(m["hops"] for m in manifest.values()) >= 3


def test_head_request_follows_chain(manifest):
    r = httpx.head(manifest["cebu"]["short_url"], follow_redirects=True)
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 0


def test_unknown_short_code_is_404(site, manifest):
    r = httpx.get(site.base_url + "/s/nope", follow_redirects=True)
    assert r.status_code == 404 and not r.history
    assert manifest["weather_unknown"]["status"] == 404


def test_pdf_link(pages):
    r = pages["transport_pdf"]
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-1.4") and r.content.rstrip().endswith(b"%%EOF")
    startxref = int(r.content.rsplit(b"startxref", 1)[1].split()[0])
    assert r.content[startxref:].startswith(b"xref")


# -- article pages -------------------------------------------------------------


def _meta(doc, xpath: str) -> str | None:
    found = doc.xpath(xpath)
    return found[0] if found else None


@pytest.mark.parametrize("key", ARTICLE_KEYS)
def test_article_head(pages, manifest, key):
    m, r = manifest[key], pages[key]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    doc = lxml_html.fromstring(r.content)
    assert doc.get("lang") == m["lang"]
    assert m["title"] in doc.findtext(".//title")
    assert _meta(doc, "//meta[@name='description']/@content")
    assert _meta(doc, "//link[@rel='canonical']/@href") == m["canonical_url"]
    assert _meta(doc, "//meta[@property='og:url']/@content") == m["canonical_url"]
    assert _meta(doc, "//meta[@property='og:title']/@content") == m["title"]
    assert _meta(doc, "//meta[@property='og:site_name']/@content") == SITE_NAME
    assert _meta(doc, "//meta[@property='og:type']/@content") == "article"
    assert _meta(doc, "//meta[@property='article:published_time']/@content") == m["published"]
    assert _meta(doc, "//meta[@name='author']/@content")
    # The boilerplate the extractor must cope with is really there.
    for selector in (
        "cookie-banner",
        "main-nav",
        "breadcrumb",
        "share-bar",
        "related-articles",
        "comments",
        "site-footer",
    ):
        assert doc.xpath(f"//*[contains(@class, '{selector}')]"), selector
    assert len(doc.xpath("//div[contains(concat(' ', @class, ' '), ' ad ')]")) >= 3
    assert len(doc.xpath("//li[@class='comment']")) >= 3
    assert len(doc.xpath("//footer//a")) >= 15
    assert 4 <= len(m["paragraphs"]) <= 8


def test_canonical_differs_from_final_url(manifest):
    differing = [m for m in manifest.values() if m["canonical_url"] and m["canonical_url"] != m["final_url"]]
    assert {m["key"] for m in differing} >= {"kumasi", "copper"}
    assert "utm_source=" in manifest["kumasi"]["final_url"]
    assert "/amp/" in manifest["copper"]["final_url"]


def test_canonical_of_amp_copy_is_served(manifest, client):
    r = client.get(manifest["copper"]["canonical_url"])
    assert r.status_code == 200 and not r.history


@pytest.mark.parametrize("key", ARTICLE_KEYS)
def test_trafilatura_extracts_only_the_article(pages, manifest, key):
    m, r = manifest[key], pages[key]
    text = _extract(r.text, str(r.url))
    assert text.startswith(m["first_sentence"])
    for paragraph in m["paragraphs"]:
        assert paragraph in text
    item = next(i for i in ITEMS if i.key == key)
    for comment in item.article.comments:
        assert comment.text not in text
    for related in item.article.related:
        assert manifest[related]["title"] not in text
    for snippet in _boilerplate(m["lang"]):
        assert snippet not in text, snippet


@pytest.mark.parametrize("key", ARTICLE_KEYS)
def test_trafilatura_default_puts_comments_after_body(pages, manifest, key):
    # trafilatura's default (include_comments=True) appends reader comments
    # after the body; the pipeline should pass include_comments=False.
    m, r = manifest[key], pages[key]
    text = trafilatura.extract(r.text, url=str(r.url)) or ""
    item = next(i for i in ITEMS if i.key == key)
    body_end = text.index(m["paragraphs"][-1]) + len(m["paragraphs"][-1])
    assert text.startswith(m["first_sentence"])
    assert all(text.index(c.text) > body_end for c in item.article.comments)


@pytest.mark.parametrize("key", [i.key for i in ITEMS if i.kind == "not_article"])
def test_not_article_pages_yield_little_text(pages, key):
    r = pages[key]
    assert r.status_code == 200
    doc = lxml_html.fromstring(r.content)
    assert _meta(doc, "//meta[@property='og:type']/@content") == "website"
    assert not doc.xpath("//meta[@property='article:published_time']")
    for kw in ({}, {"favor_precision": True}, {"favor_recall": True}):
        assert len(_extract(r.text, str(r.url), **kw)) < 250, kw


def test_french_article_is_utf8(pages):
    r = pages["lyon"]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert 'lang="fr"' in r.text and "Fête des Lumières" in r.text
    assert "œuvres" in _extract(r.text, str(r.url))


# -- casualty vocabulary -------------------------------------------------------


@pytest.mark.parametrize("key", CLEAN_KEYS)
def test_casualty_free_pages_have_no_casualty_words(pages, manifest, key):
    r, m = pages[key], manifest[key]
    assert not CASUALTY_WORDS.findall(r.text), key
    assert not CASUALTY_WORDS.findall(m["title"])


def test_casualty_free_feed_entries(site, client):
    feed = feedparser.parse(client.get(site.feed_url).content)
    clean = {
        manifest_item.title for manifest_item in ITEMS if manifest_item.kind not in ("casualty", "casualty_update")
    }
    for entry in feed.entries:
        if entry.title in clean:
            assert not CASUALTY_WORDS.findall(entry.title + " " + entry.summary)


@pytest.mark.parametrize("key", ["kumasi", "cebu", "kumasi_update"])
def test_casualty_figures_are_in_the_first_sentence(pages, manifest, key):
    assert CASUALTY_WORDS.search(pages[key].text)  # the word check above can fire
    first = manifest[key]["first_sentence"]
    assert "killed" in first
    assert re.search(r"wounded|injured", first)
