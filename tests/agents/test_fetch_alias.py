"""The fetch agent's core with the alias table: real sample site on loopback, real SQLite, real extractor.

A link resolved once is not resolved again while its alias is fresh, and once its article is
stored the same link is filtered as a duplicate that names the canonical URL, without a fetch.
"""

from __future__ import annotations

import pytest

from wirewatch.agents import fetch as fetch_agent
from wirewatch.demo.site import DemoSite
from wirewatch.errors import Rejected
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings
from wirewatch.sources.links import make_link


@pytest.fixture(scope="module")
def site():
    with DemoSite() as s:
        yield s


@pytest.fixture
async def runtime(tmp_path):
    settings = load_settings(
        data_dir=str(tmp_path), extract_processes=0, feed_poll=False,
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
    article = first.value
    assert article["canonical_url"] == item["canonical_url"] and article["redirects"]
    alias = await runtime.storage.get_alias(item["short_url"])
    assert alias is not None and alias["canonical_url"] == item["canonical_url"]
    assert alias["final_url"] == article["final_url"] and alias["article_stored"] is False

    # Fresh alias, article not stored yet: fetched again, but straight from the final URL.
    (second,) = await core(make_link(item["short_url"], "test"))
    assert second.value["canonical_url"] == item["canonical_url"]
    assert second.value["url"] == item["short_url"] and second.value["redirects"] == []

    await runtime.storage.upsert_article(article)
    with pytest.raises(Rejected) as e:
        await core(make_link(item["short_url"], "test"))
    assert e.value.reason == "duplicate" and item["canonical_url"] in e.value.detail


async def test_aliases_off_or_expired_means_a_normal_fetch(site, runtime):
    item = news_item(site)
    core = fetch_agent.make_core(runtime)
    (first,) = await core(make_link(item["short_url"], "test"))
    await runtime.storage.upsert_article(first.value)
    await runtime.storage.put_alias(item["short_url"], first.value["final_url"], item["canonical_url"], ttl=0)
    (again,) = await core(make_link(item["short_url"], "test"))  # expired: resolved from scratch
    assert again.value["redirects"]

    runtime.settings = runtime.settings.model_copy(
        update={"sources": runtime.settings.sources.model_copy(update={"alias_ttl": 0})})
    (off,) = await fetch_agent.make_core(runtime)(make_link(item["short_url"], "test"))
    assert off.value["redirects"]
