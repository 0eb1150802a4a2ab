"""The enrich agent counts each article by the language it was read in (metric, bounded labels)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from wirewatch.agents import enrich as enrich_agent
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[Runtime]:
    rt = Runtime(load_settings(data_dir=str(tmp_path), extract_processes=0, feed_poll=False))
    await rt.start()
    yield rt
    await rt.close()


def _article(n: int, title: str, text: str) -> dict:
    """An article as the articles topic carries it (the pool validates the enriched result)."""
    url = f"https://news.example/a/{n}"
    return {
        "link_id": f"link-of-article-{n:04d}",
        "source": "test",
        "url": url,
        "final_url": url,
        "canonical_url": url,
        "redirects": [],
        "status": 200,
        "content_type": "text/html",
        "fetched_at": "2026-12-06T12:00:00Z",
        "title": title,
        "text": text,
        "authors": [],
        "published": None,
        "language": None,
        "sitename": None,
    }


def _count(rt: Runtime, language: str) -> float:
    return rt.metrics.registry.get_sample_value("wirewatch_articles_by_language_total", {"language": language}) or 0.0


async def test_articles_are_counted_by_the_language_they_were_read_in(runtime):
    core = enrich_agent.make_core(runtime)
    (en,) = await core(
        _article(
            1,
            "Two hurt as a van hits a bus shelter",
            "Two people were hurt when a delivery van struck a bus shelter on Main Street on Friday.",
        )
    )
    (es,) = await core(
        _article(
            2,
            "Dos heridos en un accidente",
            "Dos personas resultaron heridas cuando una "
            "furgoneta chocó contra una parada de autobús en la calle principal el viernes.",
        )
    )
    assert en.payload()["language"] == "en" and en.payload()["figures"]["injured"]["count"] == 2
    assert es.payload()["language"] == "es" and es.payload()["figures"]["injured"] is None
    # Spanish has no lexicon: it counts as und, and the label set stays bounded.
    assert _count(runtime, "en") == 1 and _count(runtime, "und") == 1 and _count(runtime, "es") == 0
