"""stages/article.read: a fetched page in, the enriched article out, in one (picklable) call."""

from __future__ import annotations

import pickle

import pytest

from wirewatch import contract
from wirewatch.errors import Rejected
from wirewatch.stages.article import read

PAGE = """<!doctype html><html lang="en"><head><title>Ferry capsizes on Lake Volta</title>
<link rel="canonical" href="https://news.example/world/ferry-lake-volta?utm_source=x"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav><article><h1>Ferry capsizes on Lake Volta</h1>
<p>At least twelve people were killed and thirty others injured when a crowded ferry capsized on Lake
Volta in Ghana on Tuesday evening, the regional police commander told reporters.</p>
<p>Rescue boats searched the water through the night while relatives gathered on the shore at the
landing stage, waiting for news of passengers who had boarded at the market town.</p>
<p>The ferry was carrying traders and their goods to a weekly market and was heavily loaded, officials
said, adding that an investigation into the cause of the accident had begun.</p></article></body></html>"""

KNOWN = {
    "link_id": "link-0123456789abcdef",
    "source": "test",
    "url": "https://sho.rt/abc",
    "redirects": [{"url": "https://sho.rt/abc", "status": 301}],
    "status": 200,
    "content_type": "text/html",
    "fetched_at": "2026-12-05T10:00:00.000000Z",
    "title": None,
}


def test_reads_extracts_and_enriches_in_one_call():
    article = read(PAGE, "https://news.example/world/ferry-lake-volta", dict(KNOWN))
    assert article["canonical_url"] == "https://news.example/world/ferry-lake-volta"
    assert article["title"] == "Ferry capsizes on Lake Volta" and "capsized" in article["text"]
    assert article["figures"]["killed"]["count"] == 12
    assert any(p.get("country_code") == "GH" for p in article["places"])
    contract.encode("enriched", article)  # valid against the topic's schema
    pickle.loads(pickle.dumps(article))  # it comes back from a pool process


def test_a_page_that_is_no_article_is_rejected_with_a_reason():
    with pytest.raises(Rejected) as e:
        read("<html><body><p>Hi.</p></body></html>", "https://news.example/", dict(KNOWN))
    assert e.value.reason in ("too_short", "empty", "not_article")
