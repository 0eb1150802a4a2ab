"""The fetch agent's core with the alias table: real sample site on loopback, real SQLite, real extractor.

A link resolved once is not resolved again while its alias is fresh, and once its article is
stored the same link is filtered as a duplicate that names the canonical URL, without a fetch.
The article fetched by way of an alias still carries the redirect chain the alias was resolved
through (stored with the alias), and og:url stands for the canonical URL when a page has no
rel=canonical.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tests.harness.loopback import serve
from wirewatch.agents import fetch as fetch_agent
from wirewatch.demo.site import DemoSite
from wirewatch.errors import Rejected
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings
from wirewatch.sinks import open_storage, storage as storage_module
from wirewatch.sources.links import make_link


@pytest.fixture(scope="module")
def site():
    with DemoSite() as s:
        yield s


@pytest.fixture
async def runtime(tmp_path):
    settings = load_settings(
        data_dir=str(tmp_path),
        extract_processes=0,
        feed_poll=False,
        fetch={"allow_private_addresses": True, "robots": False},
    )
    rt = Runtime(settings)
    await rt.start()
    yield rt
    await rt.close()


def news_item(site: DemoSite) -> dict:
    return next(m for m in site.manifest() if m["kind"] == "news")


async def test_a_known_link_skips_resolution_then_becomes_a_duplicate(site, runtime):
    item = news_item(site)
    core = fetch_agent.make_core(runtime)

    (first,) = await core(make_link(item["short_url"], "test"))
    article = first.payload()
    assert article["canonical_url"] == item["canonical_url"] and article["redirects"]
    alias = await runtime.storage.get_alias(item["short_url"])
    assert alias is not None and alias["canonical_url"] == item["canonical_url"]
    assert alias["final_url"] == article["final_url"] and alias["article_stored"] is False

    # Fresh alias, article not stored yet: fetched again, but straight from the final URL.
    (second,) = await core(make_link(item["short_url"], "test"))
    assert second.payload()["canonical_url"] == item["canonical_url"]
    assert second.payload()["url"] == item["short_url"]
    assert second.payload()["redirects"] == article["redirects"]  # the alias's chain, kept

    await runtime.storage.upsert_article(article)
    with pytest.raises(Rejected) as e:
        await core(make_link(item["short_url"], "test"))
    assert e.value.reason == "duplicate" and item["canonical_url"] in e.value.detail


async def test_a_redelivered_link_whose_alias_it_wrote_is_fetched_again_not_filtered(site, runtime):
    """A worker killed after recording the alias but before emitting the article: the redelivered
    link (same link_id) must still produce its article, even once a sibling link stored it."""
    item = news_item(site)
    core = fetch_agent.make_core(runtime)
    link = make_link(item["short_url"], "test")
    (first,) = await core(link)
    await runtime.storage.upsert_article({**first.payload(), "link_id": "a-sibling-link"})
    (again,) = await core(dict(link))
    assert (
        again.payload()["link_id"] == link["link_id"] and again.payload()["redirects"] == first.payload()["redirects"]
    )


async def test_aliases_off_or_expired_means_a_normal_fetch(site, runtime):
    item = news_item(site)
    core = fetch_agent.make_core(runtime)
    (first,) = await core(make_link(item["short_url"], "test"))
    await runtime.storage.upsert_article(first.payload())
    await runtime.storage.put_alias(item["short_url"], first.payload()["final_url"], item["canonical_url"], ttl=0)
    (again,) = await core(make_link(item["short_url"], "test"))  # expired: resolved from scratch
    assert again.payload()["redirects"]

    runtime.settings = runtime.settings.model_copy(
        update={"sources": runtime.settings.sources.model_copy(update={"alias_ttl": 0})}
    )
    (off,) = await fetch_agent.make_core(runtime)(make_link(item["short_url"], "test"))
    assert off.payload()["redirects"]


PIER = """<!doctype html><html lang="en"><head><title>Ferry pier reopens</title>
<meta property="og:url" content="{canonical}"></head><body><article><h1>Ferry pier reopens</h1>
<p>The ferry pier on the east bank reopened on Monday after three weeks of repairs to its pilings,
the harbour office said in a short statement to passengers.</p>
<p>Crews replaced eleven timber posts that the October storm had split, and a new ramp was lifted
into place by the floating crane that usually works the container berths.</p>
</article></body></html>"""


@dataclass
class Shortener:
    """A short link two hops from a page that names its canonical URL only with og:url."""

    base: str = ""
    moved: bool = False  # the page itself later redirects to a new address
    hits: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
async def shortener():
    sh = Shortener()

    async def short(request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": sh.url("/go/k1")})

    async def hop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/news/ferry?ref=share"})

    async def page(request: web.Request) -> web.Response:
        if sh.moved and request.path == "/news/ferry":
            return web.Response(status=301, headers={"Location": "/news/ferry-pier"})
        return web.Response(text=PIER.format(canonical=sh.url("/news/ferry")), content_type="text/html")

    routes = {"/s/k1": short, "/go/k1": hop, "/news/ferry": page, "/news/ferry-pier": page}
    async with serve(routes, sh.hits) as sh.base:
        yield sh


async def test_og_url_is_the_canonical_url_without_rel_canonical(shortener, runtime):
    (out,) = await fetch_agent.make_core(runtime)(make_link(shortener.url("/s/k1"), "test"))
    article = out.payload()
    assert article["final_url"] == shortener.url("/news/ferry?ref=share")
    assert article["canonical_url"] == shortener.url("/news/ferry") == out.key
    alias = await runtime.storage.get_alias(shortener.url("/s/k1"))
    assert alias["canonical_url"] == shortener.url("/news/ferry")


async def test_a_fetch_by_way_of_an_alias_keeps_its_chain_and_adds_new_hops(shortener, runtime):
    core = fetch_agent.make_core(runtime)
    link = make_link(shortener.url("/s/k1"), "test")
    (first,) = await core(link)
    chain = [{"url": shortener.url("/s/k1"), "status": 301}, {"url": shortener.url("/go/k1"), "status": 302}]
    assert first.payload()["redirects"] == chain
    assert (await runtime.storage.get_alias(link["url"]))["redirects"] == chain

    shortener.moved = True  # the article's address changed since the alias was recorded
    (second,) = await core(make_link(link["url"], "test"))
    assert shortener.hits["/s/k1"] == shortener.hits["/go/k1"] == 1  # the chain was not walked again
    assert second.payload()["final_url"] == shortener.url("/news/ferry-pier")
    assert second.payload()["redirects"] == chain + [{"url": shortener.url("/news/ferry?ref=share"), "status": 301}]
    # A shortcut does not rewrite the alias it took.
    assert (await runtime.storage.get_alias(link["url"]))["redirects"] == chain


async def test_aliases_of_an_older_database_gain_an_empty_chain(tmp_path):
    """A database at the version before the chain existed: its aliases read back with no hops,
    and new ones store theirs."""
    path = tmp_path / "old.db"
    chain_version = next(v for v, ddl in storage_module._MIGRATIONS.items() if "aliases ADD COLUMN redirects" in ddl)
    db = sqlite3.connect(path)
    for version in sorted(v for v in storage_module._MIGRATIONS if v < chain_version):
        for statement in storage_module._MIGRATIONS[version].format(json="TEXT", ts="TEXT").split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, '2026-11-01T00:00:00+00:00')", (version,)
        )
    db.execute(
        "INSERT INTO aliases (url, final_url, canonical_url, resolved_at, expires_at) VALUES "
        "('https://exm.pl/old', 'https://n.example/1?x', 'https://n.example/1', "
        "'2026-11-01T00:00:00.000000+00:00', '2999-01-01T00:00:00.000000+00:00')"
    )
    db.commit()
    db.close()

    storage = open_storage(f"sqlite:///{path}")
    await storage.start()
    try:
        assert await storage.schema_version() == storage_module.SCHEMA_VERSION >= chain_version
        old = await storage.get_alias("https://exm.pl/old")
        assert old["redirects"] == [] and old["final_url"] == "https://n.example/1?x"
        hops = [{"url": "https://exm.pl/new", "status": 301}]
        await storage.put_alias("https://exm.pl/new", "https://n.example/2", "https://n.example/2", 60, hops)
        assert (await storage.get_alias("https://exm.pl/new"))["redirects"] == hops
    finally:
        await storage.close()
