"""The extraction pool (runtime.extraction_pool: real spawned worker processes) and the per-domain
extraction metrics: results and rejections cross the process boundary intact; domains stay bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from wirewatch import contract
from wirewatch.errors import Rejected
from wirewatch.metrics import EXTRACT_DOMAINS_TRACKED, Metrics
from wirewatch.runtime import extraction_pool
from wirewatch.stages import article
from wirewatch.stages.extract import extract
from wirewatch.stages.extract_score import load_corpus

OWN = Path(__file__).resolve().parents[1] / "corpus" / "extraction"


@pytest.mark.parametrize("processes", [0, 2])
def test_pool_gives_the_same_results_as_a_direct_call(processes):
    pages = load_corpus(OWN)
    pool = extraction_pool(processes)
    try:
        got = list(pool.map(extract, [p.html for p in pages], [p.url for p in pages]))
    finally:
        pool.shutdown()
    assert got == [extract(p.html, p.url) for p in pages]


def test_a_rejection_crosses_the_process_boundary_with_its_reason():
    pool = extraction_pool(1)

    async def run():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, extract, "%PDF-1.7 binary", "https://site.example/report.pdf")

    try:
        with pytest.raises(Rejected) as e:
            asyncio.run(run())
    finally:
        pool.shutdown()
    assert e.value.reason == "wrong_type"


def test_the_pool_sends_back_the_enriched_topic_s_bytes_validated():
    """The fetch agent's call: the page's bytes in, the enriched message's bytes out (validated and
    serialised in the pool process), the same as encoding the article read here."""
    page = load_corpus(OWN)[0]
    known = {
        "link_id": "link-of-the-pool-test",
        "source": "test",
        "url": page.url,
        "redirects": [],
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "fetched_at": "2026-12-06T12:00:00Z",
        "title": None,
    }
    body = page.html.encode()
    pool = extraction_pool(1)
    try:
        got = pool.submit(article.read_encoded, body, known["content_type"], page.url, known).result(timeout=120)
    finally:
        pool.shutdown()
    expected = article.read_page(body, known["content_type"], page.url, known)
    assert isinstance(got, article.Read) and got.data == contract.encode("enriched", expected)
    assert (got.canonical_url, got.text_chars, got.language) == (
        expected["canonical_url"],
        len(expected["text"]),
        expected["language"],
    )


def _value(m: Metrics, name: str, **labels) -> float:
    return m.registry.get_sample_value(name, labels) or 0.0


def test_per_domain_metrics_count_outcomes_and_text_length():
    m = Metrics(CollectorRegistry())
    m.extraction("https://www.harbour.example/a", "extracted", 1200)
    m.extraction("https://harbour.example/b", "too_short")
    m.extraction("https://harbour.example/c", "extracted", 300)
    assert _value(m, "wirewatch_extract_domain_pages_total", domain="harbour.example", outcome="extracted") == 2
    assert _value(m, "wirewatch_extract_domain_pages_total", domain="harbour.example", outcome="too_short") == 1
    assert _value(m, "wirewatch_extract_domain_text_chars_count", domain="harbour.example") == 2
    assert _value(m, "wirewatch_extract_domain_text_chars_sum", domain="harbour.example") == 1500


def test_per_domain_metrics_are_bounded():
    m = Metrics(CollectorRegistry())
    for n in range(EXTRACT_DOMAINS_TRACKED + 10):
        m.extraction(f"https://site{n}.example/story", "extracted", 800)
    m.extraction("not a url", "empty")
    domains = {
        s.labels["domain"]
        for metric in m.registry.collect()
        if metric.name == "wirewatch_extract_domain_pages"
        for s in metric.samples
    }
    assert len(domains) == EXTRACT_DOMAINS_TRACKED + 1
    assert _value(m, "wirewatch_extract_domain_pages_total", domain="other", outcome="extracted") == 10
    assert _value(m, "wirewatch_extract_domain_pages_total", domain="other", outcome="empty") == 1
    # A domain already tracked keeps its own series.
    m.extraction("https://site0.example/another", "extracted", 800)
    assert _value(m, "wirewatch_extract_domain_pages_total", domain="site0.example", outcome="extracted") == 2


def _child_pids() -> set[int]:
    from wirewatch.boot import child_pids

    return set(child_pids())


def test_every_process_starts_and_warms_up_before_any_article_is_sent():
    before = _child_pids()
    pool = extraction_pool(2)
    try:
        # No article submitted: the pool's own start-up tasks spawn both processes and, once they
        # are warm, leave them idle, so the first articles find two warm processes.
        deadline = asyncio.run(_wait_for(lambda: len(_child_pids() - before) >= 2))
        assert deadline, "the pool did not start its two processes by itself"
        # A guard against a hang, not a speed goal: two processes warming up (lexicons, parsers)
        # took 32 s at load 13 and over 120 s with three copies of the tests and two CPU hogs.
        assert pool.submit(sum, [1, 2]).result(timeout=240) == 3
    finally:
        pool.shutdown()


async def _wait_for(check, timeout: float = 120.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if check():
            return True
        await asyncio.sleep(0.1)
    return False


def test_warm_up_loads_every_lexicon_and_the_date_parser(monkeypatch):
    import htmldate.extractors

    from wirewatch.stages import article
    from wirewatch.stages.enrich import lexicon

    lexicon._lexicon_file.cache_clear()
    asked: list[str] = []
    real = htmldate.extractors.get_external_parser

    class Spy:
        def get_date_data(self, string):
            asked.append(string)
            return real().get_date_data(string)

    monkeypatch.setattr(htmldate.extractors, "get_external_parser", Spy)
    # htmldate keeps each date string it has read (lru_cache): a warm-up earlier in this process
    # (tests/stages/test_extract.py runs one) would answer from there and never reach the parser.
    htmldate.extractors.try_date_expr.cache_clear()
    article.warm_up()
    assert lexicon._lexicon_file.cache_info().currsize == len(lexicon.languages())
    # A date written in words reaches dateparser, whose first call loads its ~200 locales: the
    # warm-up pays for it, not the first such article.
    assert asked, "the warm-up never reached the date parser"
