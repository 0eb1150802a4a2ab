"""Quality gate of stages.extract: F1/precision/recall over annotated corpora must stay above floors.

Corpora: the project's own pages (tests/corpus/extraction, always run) and, when present beside the
clone, the development half of the public article-extraction benchmark (its path from
WIREWATCH_EXTRACTION_CORPUS or ../shared/data/extraction-scrapinghub-dev). Floors live in
tests/corpus/extraction/floors.json and may only rise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trafilatura

from wirewatch.stages.extract import extract
from wirewatch.stages.extract_score import load_corpus, page_scores, score

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "corpus" / "extraction"
FLOORS = json.loads((OWN / "floors.json").read_text())
DEV = Path(os.environ.get("WIREWATCH_EXTRACTION_CORPUS", ROOT.parent / "shared" / "data" / "extraction-scrapinghub-dev"))


def _f1(p: float | None, r: float) -> float:
    p = p or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def test_own_corpus_meets_its_floors():
    pages = load_corpus(OWN)
    assert len(pages) >= 6
    texts = [extract(p.html, p.url).text for p in pages]
    s = score(zip(texts, (p.truth for p in pages)))
    floors = FLOORS["own"]
    assert s.f1 >= floors["f1"] and s.precision >= floors["precision"] and s.recall >= floors["recall"], s
    for page, text in zip(pages, texts):
        assert _f1(*page_scores(text, page.truth)) >= floors["page_f1"], (page.id, text)


def test_own_corpus_beats_raw_trafilatura():
    # The corpus earns its place only if it holds the boilerplate raw trafilatura lets through.
    pages = load_corpus(OWN)
    ours = score((extract(p.html, p.url).text, p.truth) for p in pages)
    raw = score((trafilatura.extract(p.html, url=p.url) or "", p.truth) for p in pages)
    assert ours.f1 > raw.f1 and ours.precision > raw.precision


@pytest.mark.skipif(not (DEV / "ground-truth.json").exists(), reason=f"benchmark corpus not at {DEV}")
def test_benchmark_development_half_meets_its_floors():
    pages = load_corpus(DEV)
    texts = []
    for p in pages:
        try:
            texts.append(extract(p.html, p.url).text)
        except Exception:  # a rejection is an empty prediction, which costs recall
            texts.append("")
    s = score(zip(texts, (p.truth for p in pages)))
    floors = FLOORS["scrapinghub_dev"]
    assert s.f1 >= floors["f1"] and s.precision >= floors["precision"] and s.recall >= floors["recall"], s
