"""Quality gate of stages.extract: scores over public annotated corpora must stay above floors.

Gates, each run when its corpus is present beside the clone (and skipped where it is not):
- the development half of the ScrapingHub article-extraction benchmark (WIREWATCH_EXTRACTION_CORPUS
  or ../shared/data/extraction-scrapinghub-dev): shingle F1, precision, recall;
- the WCXB development pages (WIREWATCH_WCXB_CORPUS or ../shared/data/extraction-wcxb-dev): word
  F1 over its articles, the share of articles accepted and of other pages declined, and the title,
  author and date accuracy.
Floors live in tests/corpus/extraction/floors.json and may only rise. The project's own pages
(tests/corpus/extraction) were written by the hands that tuned the extractor: they are examples of
what it must get right, checked page by page, not a measure of how well it generalises.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trafilatura

from benchmarks.bench_extract import wirewatch_outcome, wirewatch_text
from wirewatch.errors import Rejected
from wirewatch.stages.extract import Extracted, extract
from wirewatch.stages.extract_score import (
    author_match,
    date_exact,
    load_corpus,
    page_scores,
    score,
    title_exact,
    word_f1,
)

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "corpus" / "extraction"
FLOORS = json.loads((OWN / "floors.json").read_text())
DEV = Path(
    os.environ.get("WIREWATCH_EXTRACTION_CORPUS", ROOT.parent / "shared" / "data" / "extraction-scrapinghub-dev")
)
WCXB = Path(os.environ.get("WIREWATCH_WCXB_CORPUS", ROOT.parent / "shared" / "data" / "extraction-wcxb-dev"))


def _f1(p: float | None, r: float) -> float:
    p = p or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def test_own_examples_are_extracted_page_by_page():
    pages = load_corpus(OWN)
    assert len(pages) >= 6
    for page in pages:
        text = extract(page.html, page.url).text
        assert _f1(*page_scores(text, page.truth)) >= 0.95, (page.id, text)


def test_own_corpus_beats_raw_trafilatura():
    # The corpus earns its place only if it holds the boilerplate raw trafilatura lets through.
    pages = load_corpus(OWN)
    ours = score((extract(p.html, p.url).text, p.truth) for p in pages)
    raw = score((trafilatura.extract(p.html, url=p.url) or "", p.truth) for p in pages)
    assert ours.f1 > raw.f1 and ours.precision > raw.precision


@pytest.mark.skipif(not (DEV / "ground-truth.json").exists(), reason=f"benchmark corpus not at {DEV}")
def test_benchmark_development_half_meets_its_floors():
    pages = load_corpus(DEV)
    # Scored as bench-extract scores: a refusal is an empty prediction, which costs recall; an
    # exception that is not the stage's own (a bug) fails the gate instead of scoring zero.
    texts = [wirewatch_text(p.html, p.url) for p in pages]
    s = score(zip(texts, (p.truth for p in pages)))
    floors = FLOORS["scrapinghub_dev"]
    assert s.f1 >= floors["f1"] and s.precision >= floors["precision"] and s.recall >= floors["recall"], s


@pytest.mark.skipif(not (WCXB / "ground-truth.json").exists(), reason=f"WCXB corpus not at {WCXB}")
# 911 pages read one after another: a few minutes on a quiet machine, past pytest's 300 s guard at
# load 13-18 (twice this session, with every floor met once rerun). The guard is against a hang,
# not a speed goal (bench-extract measures speed).
@pytest.mark.timeout(1500)
def test_wcxb_development_pages_meet_their_floors():
    pages = load_corpus(WCXB)
    outcomes = [wirewatch_outcome(p.html, p.url) for p in pages]  # as bench-extract reads them
    articles = [(p, o) for p, o in zip(pages, outcomes) if p.is_article]
    others = [o for p, o in zip(pages, outcomes) if not p.is_article]

    def share(values) -> float:
        values = list(values)
        return sum(values) / len(values)

    def text(o) -> str:
        return o.text if isinstance(o, Extracted) else ""

    figures = {
        "word_f1": share(word_f1(text(o), p.truth) for p, o in articles),
        "article_accepted": share(isinstance(o, Extracted) for _, o in articles),
        "nonarticle_declined": share(isinstance(o, Rejected) for o in others),
        "title_exact": share(title_exact(getattr(o, "title", None), p.title) for p, o in articles if p.title),
        "author_match": share(author_match(getattr(o, "authors", None), p.author) for p, o in articles if p.author),
        "date_exact": share(date_exact(getattr(o, "published", None), p.published) for p, o in articles if p.published),
    }
    floors = FLOORS["wcxb_dev"]
    assert all(figures[k] >= floors[k] for k in floors), {k: (round(figures[k], 4), floors[k]) for k in floors}
